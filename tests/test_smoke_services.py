from proposals import services


def test_it_decides_a_proposal_end_to_end(open_call, facilitator, participant, make_member):
    services.take_position(actor=participant, proposal=open_call, kind="agree")
    blocker = make_member("Blake")
    services.take_position(actor=blocker, proposal=open_call, kind="block", reason="Unsafe.")
    decision = services.close_call(actor=facilitator, proposal=open_call)
    assert decision.outcome == "blocked"
    assert decision.counts == {"agree": 1, "stand_aside": 0, "block": 1}
