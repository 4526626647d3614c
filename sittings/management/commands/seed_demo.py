"""`manage.py seed_demo`: a demo assembly to click through, built only through the services.

Idempotent: the demo assembly is recognised by its slug ("demo"). When it exists, nothing
is written (apart from the optional admin account, created only if it is missing) and the
command prints the same join code and addresses again.
"""

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import IntegrityError, transaction
from django.test.utils import override_settings
from django.utils import timezone

from assemblies import services as assembly_services
from assemblies.models import Assembly, Membership, Role, Visibility
from core.errors import Conflict
from proposals import services as proposal_services
from proposals.models import CommentKind, Mandate, Phase, PositionKind, Proposal, Reading
from sittings import services as sitting_services

DEMO_SLUG = "demo"
DEMO_NAME = "Demo General Assembly"
DEMO_RULE = {"preset": "occupy_modified_consensus"}

FACILITATOR = ("facilitator", "demo-facilitator", "Rosa")
PARTICIPANT_PASSWORD = "demo-participant"
PARTICIPANTS = [
    ("ana", "Ana"),
    ("ben", "Ben"),
    ("chloe", "Chloé"),
    ("dev", "Dev"),
    ("eli", "Eli"),
    ("fatima", "Fatima"),
    ("gus", "Gus"),
    ("hana", "Hana"),
    ("ivo", "Ivo"),
]
OBSERVER = ("observer", "demo-observer", "Omar (community radio)")
ADMIN = ("admin", "demo-admin")

DESCRIPTION = """\
The general assembly of the **Liberty Square encampment**, on Multitude for the demo.

We decide by **modified consensus**: a proposal passes with no blocks; if someone blocks,
it still passes with at least 9/10 of *agree + block*. Stand-asides count on neither side.

* Sittings every evening at 7 pm, by the kitchen tent, and online for those who can't come.
* Hand signals, the progressive stack and the speaker timer are all on the sitting page.
* Be kind. Step up, step back.
"""

TARP_TEXT = """\
## Buy a second tarp for the kitchen

The kitchen tarp tore in Tuesday's storm and we have been cooking in the rain since.

**Proposal:** the kitchen working group buys a second **heavy-duty blue tarp** (at least
4 by 6 m), at most **$80** from the general fund, and keeps the old one as a spare.

* Receipts go to the finance working group the same day.
* Ana and Gus put it up with whoever wants to help, Saturday 10 am.
"""

DRUM_TEXT = """\
## Drum circle hours: 11 am to 9 pm

Our neighbours on Cedar Street have asked us, kindly, for some quiet in the evenings.

**Proposal:** the drum circle plays between **11 am and 9 pm** only. Outside those hours
we keep to hand percussion at conversational volume.

* The drummers' working group posts the hours at the info desk.
* We revisit this in two weeks at the general assembly.
"""

SOLIDARITY_TEXT = """\
## Solidarity statement with the transit workers' strike

The bus and subway workers walk out on Monday for safe staffing and fair pay.

**Proposal:** the general assembly publishes this statement and sends a delegation of
volunteers to the Monday morning picket:

> The Liberty Square General Assembly stands with the transit workers. Safe, public,
> affordable transit is a right, and those who run it deserve safe jobs and fair pay.
> We will bring coffee.

The media working group posts it on our site and reads it at the next people's mic.
"""

LIBRARY_TEXT = """\
## Extend the people's library hours to 10 pm

Many of us only get to the library after work, when it is already closed.

**Proposal:** the people's library stays open until **10 pm** every day (now 7 pm).

* Volunteers sign up for evening shifts of two hours on the sheet at the library tent.
* Books stay under the tarp overnight, as now.
"""

NOISE_TEXT = """\
## Quiet hours in the sleeping area

People who sleep here need rest to keep the occupation going.

**Proposal:** from **11 pm to 7 am** the sleeping area is a quiet zone: no amplified
sound, no drums, conversations kept low. Security working group volunteers remind people
gently; nobody is ever removed for noise.
"""

NOISE_AMENDED_TEXT = """\
## Quiet hours in the sleeping area

People who sleep here need rest to keep the occupation going.

**Proposal:** from **11 pm to 7 am** the sleeping area is a quiet zone: no amplified
sound, no drums, conversations kept low. Security working group volunteers remind people
gently; nobody is ever removed for noise.

**Day sleepers:** the north corner of the sleeping area is also quiet from **9 am to
2 pm**, for those of us who work night shifts. It is marked with a yellow ribbon.
"""

MEETING_TIME_TEXT = """\
## Start the general assembly at 6 pm on weekdays

At 7 pm the sitting often runs past 10, and people who start work early leave before
the call for consensus.

**Proposal:** on weekdays the general assembly starts at **6 pm**; on weekends it stays
at 7 pm. The facilitation working group tries it for two weeks and reports back.
"""


class Command(BaseCommand):
    help = (
        "Create a demo assembly (slug 'demo') with members, a sitting in session and "
        "proposals in every phase. Running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--admin",
            action="store_true",
            help=(
                f"Also create the superuser '{ADMIN[0]}' (password '{ADMIN[1]}'). "
                "Done anyway when DEBUG is on."
            ),
        )
        parser.add_argument("--quiet", action="store_true", help="Print nothing.")

    def handle(self, *args, **options):
        self.quiet = options["quiet"] or options["verbosity"] == 0
        admin_status = None
        if options["admin"] or settings.DEBUG:
            admin_status = self._ensure_admin()
        assembly, created = self._seed_once()
        self._report(assembly, created=created, admin_status=admin_status)

    # --- writing ---------------------------------------------------------------------------

    def _seed_once(self) -> tuple[Assembly, bool]:
        assembly = Assembly.objects.filter(slug=DEMO_SLUG).first()
        if assembly is not None:
            return assembly, False
        try:
            # The demo's made-up history is not news: nobody is emailed about it.
            with override_settings(NOTIFICATIONS_SUSPENDED=True), transaction.atomic():
                return self._seed(), True
        except (Conflict, IntegrityError):
            # Another run created it meanwhile: everything we wrote was rolled back.
            assembly = Assembly.objects.filter(slug=DEMO_SLUG).first()
            if assembly is None:
                raise
            return assembly, False

    def _ensure_admin(self) -> str:
        username, password = ADMIN
        user = User.objects.filter(username=username).first()
        if user is None:
            User.objects.create_superuser(
                username=username, email=f"{username}@example.org", password=password
            )
            return "created"
        if user.is_superuser and user.check_password(password):
            return "exists"
        return "exists_other"

    def _user(self, username: str, password: str, first_name: str = "") -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                username=username,
                email=f"{username}@example.org",
                password=password,
                first_name=first_name,
            )
        return user

    def _seed(self) -> Assembly:
        fac_username, fac_password, fac_name = FACILITATOR
        assembly = assembly_services.create_assembly(
            actor=self._user(fac_username, fac_password, fac_name),
            name=DEMO_NAME,
            slug=DEMO_SLUG,
            description=DESCRIPTION,
            visibility=Visibility.PUBLIC,
            decision_rule=DEMO_RULE,
            display_name=fac_name,
            # The observer's role is given below, before the assembly decides roles itself.
            roles_by_decision=False,
        )
        fac = assembly.memberships.get(user__username=fac_username)
        m = {
            username: assembly_services.join_assembly(
                user=self._user(username, PARTICIPANT_PASSWORD, name),
                assembly=assembly,
                display_name=name,
            )
            for username, name in PARTICIPANTS
        }
        obs_username, obs_password, obs_name = OBSERVER
        observer = assembly_services.join_assembly(
            user=self._user(obs_username, obs_password),
            assembly=assembly,
            display_name=obs_name,
        )
        assembly_services.change_role(actor=fac, member=observer, role=Role.OBSERVER)
        # From here on a role changes only by a decision of the assembly.
        assembly_services.update_assembly(actor=fac, assembly=assembly, roles_by_decision=True)

        meeting = sitting_services.schedule_meeting(
            actor=fac,
            assembly=assembly,
            title="Tonight's general assembly",
            scheduled_for=timezone.now().replace(second=0, microsecond=0),
            location="Liberty Square, by the kitchen tent (and online)",
        )
        meeting = sitting_services.start_meeting(actor=fac, meeting=meeting)

        self._tarp(fac, m, meeting)
        self._drums(fac, m, meeting)
        solidarity = self._solidarity(fac, m, meeting)
        self._library(fac, m, meeting)
        self._noise(fac, m, meeting)
        self._meeting_time(fac, m, meeting)
        sitting_services.set_current_proposal(actor=fac, meeting=meeting, proposal=solidarity)
        return assembly

    def _phases(self, fac: Membership, proposal: Proposal, *phases: str) -> Proposal:
        for phase in phases:
            proposal = proposal_services.set_phase(actor=fac, proposal=proposal, phase=phase)
        return proposal

    def _tarp(self, fac, m, meeting) -> None:
        """Decided by close_call: consensus with one stand-aside."""
        proposal = proposal_services.submit_proposal(
            actor=m["ana"],
            title="Buy a second tarp for the kitchen",
            text=TARP_TEXT,
            meeting=meeting,
        )
        proposal = self._phases(fac, proposal, Phase.PRESENTED, Phase.QUESTIONS)
        question = proposal_services.add_comment(
            actor=m["ben"],
            proposal=proposal,
            kind=CommentKind.QUESTION,
            text="Will an $80 tarp hold up in wind like Tuesday's?",
        )
        proposal_services.add_comment(
            actor=m["ana"],
            proposal=proposal,
            kind=CommentKind.ANSWER,
            parent=question,
            text=(
                "The hardware store on 5th sells a reinforced one with brass grommets for $72. "
                "With four extra guy lines it should be fine."
            ),
        )
        proposal = proposal_services.call_for_consensus(actor=fac, proposal=proposal)
        for member in (fac, m["ana"], m["ben"], m["chloe"], m["dev"], m["fatima"], m["gus"]):
            proposal_services.take_position(
                actor=member, proposal=proposal, kind=PositionKind.AGREE
            )
        proposal_services.take_position(
            actor=m["eli"],
            proposal=proposal,
            kind=PositionKind.STAND_ASIDE,
            reason=(
                "I'd rather we patch the old tarp first and save the money, "
                "but I won't stand in the way."
            ),
        )
        proposal_services.close_call(actor=fac, proposal=proposal)

    def _drums(self, fac, m, meeting) -> None:
        """Decided by close_call: 9 agree, 1 block, so modified consensus (9/10)."""
        proposal = proposal_services.submit_proposal(
            actor=m["gus"],
            title="Drum circle hours: 11 am to 9 pm",
            text=DRUM_TEXT,
            meeting=meeting,
        )
        proposal = self._phases(fac, proposal, Phase.PRESENTED, Phase.CONCERNS)
        proposal_services.add_comment(
            actor=m["hana"],
            proposal=proposal,
            kind=CommentKind.CONCERN,
            text=(
                "The drums are how people passing by find us. Cutting them at 9 pm "
                "hides us just when people come out of work."
            ),
        )
        proposal = proposal_services.call_for_consensus(actor=fac, proposal=proposal)
        agreeing = [fac, *(m[name] for name in ("ana", "ben", "chloe", "dev", "eli", "fatima"))]
        agreeing += [m["gus"], m["ivo"]]
        for member in agreeing:
            proposal_services.take_position(
                actor=member, proposal=proposal, kind=PositionKind.AGREE
            )
        proposal_services.take_position(
            actor=m["hana"],
            proposal=proposal,
            kind=PositionKind.BLOCK,
            reason=(
                "Drumming is our voice in the square. I'd accept 10 pm, but 9 pm "
                "silences us for the neighbours' comfort; I can't consent to that."
            ),
        )
        proposal_services.close_call(actor=fac, proposal=proposal)

    def _solidarity(self, fac, m, meeting) -> Proposal:
        """Call for consensus open, with agrees and a stand-aside, no block."""
        proposal = proposal_services.submit_proposal(
            actor=m["dev"],
            title="Solidarity statement with the transit workers' strike",
            text=SOLIDARITY_TEXT,
            meeting=meeting,
        )
        proposal = self._phases(fac, proposal, Phase.PRESENTED, Phase.QUESTIONS)
        question = proposal_services.add_comment(
            actor=m["ivo"],
            proposal=proposal,
            kind=CommentKind.QUESTION,
            text="Has the union asked for statements, or would we be speaking over them?",
        )
        proposal_services.add_comment(
            actor=m["dev"],
            proposal=proposal,
            kind=CommentKind.ANSWER,
            parent=question,
            text="Yes: their strike committee asked community groups for public support.",
        )
        # Eli works nights: Gus carries Eli's voice, to use with his own judgement.
        proposal_services.give_proxy(
            actor=m["eli"], holder=m["gus"], proposal=proposal, mandate=Mandate.JUDGEMENT
        )
        proposal = proposal_services.call_for_consensus(actor=fac, proposal=proposal)
        for member in (m["ana"], m["ben"], m["chloe"], m["dev"], m["gus"]):
            proposal_services.take_position(
                actor=member, proposal=proposal, kind=PositionKind.AGREE
            )
        proposal_services.take_position(
            actor=m["gus"], proposal=proposal, kind=PositionKind.AGREE, for_member=m["eli"]
        )
        proposal_services.take_position(
            actor=m["fatima"],
            proposal=proposal,
            kind=PositionKind.STAND_ASIDE,
            reason=(
                "I support the workers, but I'd like statements to go through the media "
                "working group before the general assembly."
            ),
        )
        return proposal

    def _library(self, fac, m, meeting) -> None:
        """Clarifying questions: one answered, one still open."""
        proposal = proposal_services.submit_proposal(
            actor=m["chloe"],
            title="Extend the people's library hours to 10 pm",
            text=LIBRARY_TEXT,
            meeting=meeting,
        )
        proposal = self._phases(fac, proposal, Phase.PRESENTED, Phase.QUESTIONS)
        question = proposal_services.add_comment(
            actor=m["eli"],
            proposal=proposal,
            kind=CommentKind.QUESTION,
            text="Do we have enough light? The library tent is dark by 8 pm.",
        )
        proposal_services.add_comment(
            actor=m["chloe"],
            proposal=proposal,
            kind=CommentKind.ANSWER,
            parent=question,
            text=(
                "The tech working group has two solar lanterns for us, and a neighbour "
                "offered a third."
            ),
        )
        proposal_services.add_comment(
            actor=m["ivo"],
            proposal=proposal,
            kind=CommentKind.QUESTION,
            text="Could the late shift also cover checking books back in?",
        )

    def _noise(self, fac, m, meeting) -> None:
        """A concern, then a friendly amendment the author accepts: revision 2."""
        proposal = proposal_services.submit_proposal(
            actor=m["ben"],
            title="Quiet hours in the sleeping area",
            text=NOISE_TEXT,
            meeting=meeting,
        )
        proposal = self._phases(fac, proposal, Phase.PRESENTED, Phase.CONCERNS)
        proposal_services.add_comment(
            actor=m["fatima"],
            proposal=proposal,
            kind=CommentKind.CONCERN,
            text=(
                "Several of us work night shifts and sleep in the morning, when the "
                "square is loudest. Quiet hours only at night leave us out."
            ),
        )
        proposal = self._phases(fac, proposal, Phase.AMENDMENTS)
        amendment = proposal_services.add_comment(
            actor=m["eli"],
            proposal=proposal,
            kind=CommentKind.AMENDMENT,
            text="Add a quiet corner for day sleepers, as Fatima suggested.",
            proposed_text=NOISE_AMENDED_TEXT,
        )
        proposal_services.accept_amendment(actor=m["ben"], amendment=amendment)

    def _meeting_time(self, fac, m, meeting) -> None:
        """Presented, with an open temperature check and some readings."""
        proposal = proposal_services.submit_proposal(
            actor=m["fatima"],
            title="Start the general assembly at 6 pm on weekdays",
            text=MEETING_TIME_TEXT,
            meeting=meeting,
        )
        proposal = self._phases(fac, proposal, Phase.PRESENTED)
        proposal_services.open_temperature_check(actor=fac, proposal=proposal)
        readings = {
            "ana": Reading.UP,
            "ben": Reading.UP,
            "chloe": Reading.SO_SO,
            "dev": Reading.UP,
            "eli": Reading.DOWN,
            "gus": Reading.SO_SO,
            "hana": Reading.UP,
        }
        for name, reading in readings.items():
            proposal_services.give_reading(actor=m[name], proposal=proposal, reading=reading)

    # --- reporting -------------------------------------------------------------------------

    def _say(self, text: str = "", style=None) -> None:
        if not self.quiet:
            self.stdout.write(style(text) if style else text)

    def _report(self, assembly: Assembly, *, created: bool, admin_status: str | None) -> None:
        base = settings.SITE_URL.rstrip("/")
        assembly_url = f"{base}/a/{assembly.slug}/"
        if created:
            self._say(f'Created the demo assembly "{assembly.name}".', self.style.SUCCESS)
        else:
            self._say(
                f'The demo assembly "{assembly.name}" already exists: nothing changed.',
                self.style.WARNING,
            )
        self._say()
        self._say(f"Join code:      {assembly.join_code}")
        self._say(f"Home:           {base}/")
        self._say(f"Assembly:       {assembly_url}")
        self._say("Proposals:")
        proposals = (
            Proposal.objects.filter(assembly=assembly).select_related("decision").order_by("pk")
        )
        for proposal in proposals:
            state = proposal.get_phase_display()
            if proposal.phase == Phase.DECIDED and hasattr(proposal, "decision"):
                state = f"{state}: {proposal.decision.get_outcome_display()}"
            self._say(f"  {assembly_url}p/{proposal.pk}/  {proposal.title} [{state}]")
        self._say()
        self._say("Demo accounts (username / password):")
        self._say(f"  {FACILITATOR[0]} / {FACILITATOR[1]}  (facilitator)")
        names = ", ".join(username for username, _name in PARTICIPANTS)
        self._say(f"  {names} / {PARTICIPANT_PASSWORD}  (participants)")
        self._say(f"  {OBSERVER[0]} / {OBSERVER[1]}  (observer)")
        self._say()
        admin_url = f"{base}/admin/"
        if admin_status is None:
            self._say(
                f"Admin:          {admin_url}  (no demo superuser: pass --admin or set DEBUG=1)"
            )
        elif admin_status == "exists_other":
            self._say(
                f"Admin:          {admin_url}  (user '{ADMIN[0]}' already exists and was "
                "left as it is)"
            )
        else:
            verb = "created" if admin_status == "created" else "exists"
            self._say(f"Admin:          {admin_url}  (superuser {ADMIN[0]} / {ADMIN[1]}, {verb})")
