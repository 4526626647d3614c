"""English times as "6:53 PM" rather than Django's "6:53 p.m.".

A time ends many sentences ("Closed by Ada on Jan. 5, 2026, 6:53 PM."); with "p.m." it
ended them in two periods. The other languages' formats (24-hour) have no such dot.
"""

TIME_FORMAT = "g:i A"
DATETIME_FORMAT = "N j, Y, g:i A"
SHORT_DATETIME_FORMAT = "m/d/Y g:i A"
