"""Proxies that fit consensus (docs/hybrid.md): giving, the mandate, the cap, revoking, the
giver's own position overriding, "Ben for Ana" in the record, the log and the exports."""

import pytest
from django.utils import timezone

from assemblies import services as assembly_services
from assemblies.models import LogEntry, MeetingState
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from proposals import chain, services
from proposals.models import Position
from proposals.selectors import dissent, proxies_carried_on, tally_for
from sittings import log_text
from sittings import services as sitting_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(make_member):
    return make_member("Ana")


@pytest.fixture
def ben(make_member):
    return make_member("Ben")


def give(ana, ben, proposal, mandate="judgement", **options):
    return services.give_proxy(actor=ana, holder=ben, proposal=proposal, mandate=mandate, **options)


def state(holder, giver, proposal, kind, reason=""):
    return services.take_position(
        actor=holder, proposal=proposal, kind=kind, reason=reason, for_member=giver
    )


def test_a_holder_states_the_givers_position_within_her_mandate(ana, ben, open_call):
    give(ana, ben, open_call)
    position = state(ben, ana, open_call, "agree")
    assert (position.member, position.stated_by, position.proxy.holder) == (ana, ben, ben)
    assert position.who == "Ben for Ana"
    assert tally_for(open_call).agree == 1  # Ana counts once, Ben's own position is apart
    mine = services.take_position(actor=ben, proposal=open_call, kind="stand_aside")
    assert mine.stated_by is None
    assert tally_for(open_call).as_dict() == {"agree": 1, "stand_aside": 1, "block": 0}


def test_a_fixed_mandate_is_the_only_position_the_holder_may_state(ana, ben, open_call):
    give(ana, ben, open_call, mandate="stand_aside", reason="I am away that week.")
    with pytest.raises(Conflict) as refused:
        state(ben, ana, open_call, "agree")
    assert refused.value.code == "proxy_mandate"
    position = state(ben, ana, open_call, "stand_aside")
    assert position.reason == "I am away that week."  # the giver's words, as she gave them


def test_blocking_needs_the_assembly_and_the_mandate(assembly, facilitator, ana, ben, open_call):
    with pytest.raises(PermissionDenied) as refused:
        give(ana, ben, open_call, mandate="block", reason="No.")
    assert refused.value.code == "proxy_block_not_allowed"
    give(ana, ben, open_call)  # judgement, without blocking
    with pytest.raises(Conflict) as refused:
        state(ben, ana, open_call, "block", "Principled objection.")
    assert refused.value.code == "proxy_may_not_block"
    assembly_services.update_assembly(actor=facilitator, assembly=assembly, proxy_may_block=True)
    with pytest.raises(Conflict):  # the assembly allows it, the mandate still does not
        state(ben, ana, open_call, "block", "Principled objection.")


def test_a_mandate_that_may_block_blocks_where_the_assembly_allows(
    assembly, facilitator, ana, ben, open_call
):
    assembly_services.update_assembly(actor=facilitator, assembly=assembly, proxy_may_block=True)
    give(ana, ben, open_call, may_block=True)
    position = state(ben, ana, open_call, "block", "It harms the neighbours.")
    assert position.kind == "block"
    [shown] = dissent(open_call)["block"]
    assert shown.who == "Ben for Ana"
    # If the assembly takes the permission back, the proxy can no longer block.
    assembly_services.update_assembly(actor=facilitator, assembly=assembly, proxy_may_block=False)
    with pytest.raises(Conflict):
        state(ben, ana, open_call, "block", "Again.")


def test_the_givers_own_position_overrides_the_proxy(ana, ben, open_call):
    give(ana, ben, open_call)
    state(ben, ana, open_call, "agree")
    own = services.take_position(actor=ana, proposal=open_call, kind="stand_aside")
    assert own.stated_by is None
    with pytest.raises(Conflict) as refused:
        state(ben, ana, open_call, "agree")
    assert refused.value.code == "giver_stated_own"
    assert Position.objects.get(member=ana, is_current=True).kind == "stand_aside"
    [carried] = proxies_carried_on(open_call, ben)
    assert carried.giver_spoke


def test_no_proxy_no_statement(ana, ben, make_member, open_call):
    carla = make_member("Carla")
    give(ana, ben, open_call)
    with pytest.raises(PermissionDenied) as refused:
        state(carla, ana, open_call, "agree")
    assert refused.value.code == "no_proxy"
    with pytest.raises(PermissionDenied):
        state(ana, ben, open_call, "agree")  # a proxy goes one way


def test_a_holder_carries_at_most_the_cap(assembly, facilitator, ana, ben, make_member, proposal):
    carla = make_member("Carla")
    give(ana, ben, proposal)
    with pytest.raises(Conflict) as refused:
        give(carla, ben, proposal)
    assert refused.value.code == "proxy_cap"
    assembly_services.update_assembly(actor=facilitator, assembly=assembly, proxy_cap=2)
    give(carla, ben, proposal)
    assembly_services.update_assembly(actor=facilitator, assembly=assembly, proxy_cap=0)
    with pytest.raises(PermissionDenied) as refused:
        give(make_member("Dee"), ben, proposal)
    assert refused.value.code == "proxies_off"


def test_one_proxy_per_giver_for_what_it_covers(ana, ben, make_member, facilitator, proposal):
    meeting = sitting_services.schedule_meeting(
        actor=facilitator, assembly=facilitator.assembly, title="Sunday GA"
    )
    proposal.meeting = meeting
    proposal.save(update_fields=["meeting"])
    services.give_proxy(actor=ana, holder=ben, meeting=meeting, mandate="agree")
    with pytest.raises(Conflict) as refused:  # the sitting's proxy covers the proposal
        give(ana, make_member("Carla"), proposal)
    assert refused.value.code == "proxy_already_given"


def test_refusals_that_change_nothing(ana, ben, observer, outsider, proposal, open_call):
    cases = [
        ({"holder": ana}, DomainError, "proxy_to_oneself"),
        ({"holder": observer}, DomainError, "holder_cannot_take_part"),
        ({"holder": outsider}, NotFound, "member_not_found"),
        ({"holder": ben, "mandate": "veto"}, DomainError, "invalid_mandate"),
        ({"holder": ben, "reason": "x" * 5001}, DomainError, "reason_too_long"),
        ({"holder": ben, "reason": "bad\x00"}, DomainError, "reason_invalid"),
    ]
    for options, error, code in cases:
        with pytest.raises(error) as refused:
            services.give_proxy(
                actor=ana, proposal=open_call, **{"mandate": "judgement", **options}
            )
        assert refused.value.code == code, options
    with pytest.raises(DomainError) as refused:
        services.give_proxy(actor=ana, holder=ben, mandate="agree")
    assert refused.value.code == "proxy_scope"
    with pytest.raises(PermissionDenied):
        services.give_proxy(actor=observer, holder=ben, proposal=open_call, mandate="agree")
    assert not ana.proxies_given.exists()


def test_revocable_until_the_call_opens(ana, ben, facilitator, proposal, make_member):
    proxy = give(ana, ben, proposal)
    services.revoke_proxy(actor=ana, proxy=proxy)
    proxy.refresh_from_db()
    assert proxy.revoked_at is not None
    assert services.revoke_proxy(actor=ana, proxy=proxy).revoked_at == proxy.revoked_at  # again
    second = give(ana, ben, proposal)  # a revoked proxy no longer counts
    services.call_for_consensus(actor=facilitator, proposal=proposal)
    with pytest.raises(Conflict) as refused:
        services.revoke_proxy(actor=ana, proxy=second)
    assert refused.value.code == "proxy_call_open"
    with pytest.raises(NotFound):  # only the giver or the holder
        services.revoke_proxy(actor=make_member("Carla"), proxy=second)


def test_a_holder_declines_and_can_no_longer_state(ana, ben, proposal, facilitator):
    proxy = give(ana, ben, proposal)
    services.revoke_proxy(actor=ben, proxy=proxy)
    services.call_for_consensus(actor=facilitator, proposal=proposal)
    with pytest.raises(PermissionDenied):
        state(ben, ana, proposal, "agree")


def test_a_proxy_for_a_sitting_covers_its_proposals_and_not_others(
    ana, ben, facilitator, participant
):
    meeting = sitting_services.schedule_meeting(
        actor=facilitator, assembly=facilitator.assembly, title="Sunday GA"
    )
    at_sitting = services.submit_proposal(
        actor=participant, title="Kitchen rota", text="Rota.", meeting=meeting
    )
    elsewhere = services.submit_proposal(actor=participant, title="Online", text="Online.")
    services.give_proxy(actor=ana, holder=ben, meeting=meeting, mandate="agree")
    for proposal in (at_sitting, elsewhere):
        services.call_for_consensus(actor=facilitator, proposal=proposal)
    assert state(ben, ana, at_sitting, "agree").proxy.meeting == meeting
    with pytest.raises(PermissionDenied):
        state(ben, ana, elsewhere, "agree")
    meeting.state = MeetingState.ADJOURNED
    meeting.save(update_fields=["state"])
    with pytest.raises(Conflict):
        services.give_proxy(actor=ben, holder=ana, meeting=meeting, mandate="agree")


def test_the_record_says_ben_for_ana_and_the_chain_holds(ana, ben, facilitator, open_call):
    give(ana, ben, open_call, mandate="stand_aside", reason="Away.")
    state(ben, ana, open_call, "stand_aside")
    decision = services.close_call(actor=facilitator, proposal=open_call)
    [row] = [p for p in decision.record["positions"] if p["member"] == "Ana"]
    assert row["stated_by"] == {"member_id": ben.pk, "member": "Ben"}
    assert chain.verify_all() == []


def test_every_step_is_in_the_public_log(ana, ben, open_call, proposal):
    proxy = give(ana, ben, open_call, mandate="agree")
    state(ben, ana, open_call, "agree")
    lines = [log_text.describe(entry) for entry in LogEntry.objects.order_by("pk")]
    assert (
        "Ana gave their proxy for “Buy a second tarp for the kitchen” to Ben; mandate: State agree"
        in lines
    )
    assert (
        "Ben stated Agree for Ana on “Buy a second tarp for the kitchen”, with their proxy" in lines
    )
    assert proxy.created_at <= timezone.now()


def test_a_retried_statement_is_applied_once(ana, ben, open_call):
    give(ana, ben, open_call)
    first = services.take_position(
        actor=ben, proposal=open_call, kind="agree", request_id="r-1", for_member=ana
    )
    again = services.take_position(
        actor=ben, proposal=open_call, kind="agree", request_id="r-1", for_member=ana
    )
    assert first.pk == again.pk
    assert Position.objects.filter(member=ana).count() == 1


def test_a_removed_holder_or_giver_ends_the_proxys_use(ana, ben, make_member, facilitator):
    carla, dee = make_member("Carla"), make_member("Dee")
    proposal = services.submit_proposal(actor=facilitator, title="Rota", text="A rota.")
    give(ana, ben, proposal)
    give(carla, dee, proposal)
    services.call_for_consensus(actor=facilitator, proposal=proposal)
    assembly_services.remove_member(actor=facilitator, member=ben)
    with pytest.raises(PermissionDenied):
        state(ben, ana, proposal, "agree")  # the holder is no longer a member
    assembly_services.remove_member(actor=facilitator, member=carla)
    with pytest.raises(PermissionDenied):
        state(dee, carla, proposal, "agree")  # nor is the giver: her voice is not carried
    assert not Position.objects.filter(proposal=proposal).exists()
