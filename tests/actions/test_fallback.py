"""Turns that move nothing forward: rephrase once, offer a person at the second in a row.

The history is written as Rasa records it: each bot event names the response it came from
(`metadata.utter_action`), which is what the action reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import yaml
from conftest import make_tracker, responses, run

from actions.fallback import ActionFallback, consecutive_no_progress, turns_of

ROOT = Path(__file__).resolve().parents[2]


def user(intent: str, text: str = "…") -> Dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": 0.9}}}


def bot(response: str) -> Dict[str, Any]:
    return {"event": "bot", "text": "…", "metadata": {"utter_action": response}}


def action(name: str) -> Dict[str, Any]:
    return {"event": "action", "name": name}


def answer(history: List[Dict[str, Any]], intent: str, text: str = "…", **kwargs: Any):
    """Run the action for a new message `intent` after `history`."""
    tracker = make_tracker(text=text, intent=intent, events=[*history, user(intent, text)], **kwargs)
    return run(ActionFallback(), tracker)


GREETED = [action("action_listen"), user("greet", "hola"), action("action_greet"), bot("utter_greet_named")]


def test_name() -> None:
    assert ActionFallback().name() == "action_promptlink_fallback"


def test_not_understood_is_asked_again_once() -> None:
    dispatcher, events = answer(GREETED, "nlu_fallback", "asdf qwe")
    assert responses(dispatcher) == ["utter_default"] and events == []


def test_the_issue_case_gibberish_then_an_unsure_no_offers_a_person() -> None:
    # «asdf qwe», then «mmm no sé» (read as `deny` 0.98) used to get «De acuerdo…».
    history = [*GREETED, user("nlu_fallback", "asdf qwe"), action("action_promptlink_fallback"), bot("utter_default")]
    dispatcher, events = answer(history, "deny", "mmm no sé")
    assert responses(dispatcher) == ["utter_offer_human"] and events == []


def test_a_bare_yes_or_no_gets_a_short_question_then_the_offer() -> None:
    first, _ = answer(GREETED, "affirm", "sí")
    assert responses(first) == ["utter_how_can_i_help"]
    history = [*GREETED, user("affirm", "sí"), action("action_promptlink_fallback"), bot("utter_how_can_i_help")]
    second, _ = answer(history, "nlu_fallback", "zzz")
    assert responses(second) == ["utter_offer_human"]


def test_declining_the_offer_resets_the_count() -> None:
    offered = [
        *GREETED,
        user("nlu_fallback"),
        bot("utter_default"),
        user("nlu_fallback"),
        bot("utter_offer_human"),
    ]
    declined, events = answer(offered, "deny", "No, sigo con el asistente")
    assert responses(declined) == ["utter_ok_continue"] and events == []
    after = [*offered, user("deny"), bot("utter_ok_continue")]
    again, _ = answer(after, "nlu_fallback")
    assert responses(again) == ["utter_default"]
    # «De acuerdo. Cuénteme en qué más puedo ayudarle.» — «no»: nothing more.
    done, _ = answer(after, "deny", "no")
    assert responses(done) == ["utter_goodbye"]


def test_a_third_turn_without_progress_offers_the_person_again() -> None:
    history = [*GREETED, user("nlu_fallback"), bot("utter_default"), user("nlu_fallback"), bot("utter_offer_human")]
    dispatcher, _ = answer(history, "nlu_fallback")
    assert responses(dispatcher) == ["utter_offer_human"]


def test_yes_to_the_offer_hands_over_to_level_1(fake) -> None:
    history = [*GREETED, user("nlu_fallback"), bot("utter_default"), user("deny"), bot("utter_offer_human")]
    dispatcher, events = answer(history, "affirm", "sí, por favor")
    assert responses(dispatcher) == ["utter_handoff_queued"]
    assert fake.handoffs[0]["tier"] == "L1" and fake.handoffs[0]["conversation_id"] == "conv-1"
    assert {"event": "slot", "name": "handed_off", "value": True, "timestamp": None} in events


def test_yes_after_a_failed_ticket_hands_over_to_the_ticket_tier(fake) -> None:
    history = [*GREETED, user("report_software_bug"), action("action_submit_incident"), bot("utter_ticket_failed")]
    dispatcher, _ = answer(history, "affirm", "sí", slots={"last_ticket_tier": "L2", "last_ticket": None})
    assert responses(dispatcher) == ["utter_handoff_queued"] and fake.handoffs[0]["tier"] == "L2"


def test_no_after_a_failed_training_request_is_a_declined_offer() -> None:
    history = [*GREETED, user("request_training"), action("action_submit_training"), bot("utter_training_failed")]
    dispatcher, _ = answer(history, "deny", "no")
    assert responses(dispatcher) == ["utter_ok_continue"]


def test_a_failed_handoff_is_said_plainly(fake) -> None:
    fake.down = True
    history = [*GREETED, user("nlu_fallback"), bot("utter_default"), user("nlu_fallback"), bot("utter_offer_human")]
    dispatcher, events = answer(history, "affirm", "sí")
    assert responses(dispatcher) == ["utter_handoff_failed"] and events == []


def test_answers_to_anything_else_are_not_bare() -> None:
    thanked = [*GREETED, user("thank", "gracias"), bot("utter_you_are_welcome")]
    no, _ = answer(thanked, "deny", "no, eso es todo")
    assert responses(no) == ["utter_goodbye"]
    yes, _ = answer(thanked, "affirm", "sí")
    assert responses(yes) == ["utter_ok_continue"]
    stopped = [*GREETED, user("deny"), bot("utter_form_stopped")]
    assert responses(answer(stopped, "deny")[0]) == ["utter_goodbye"]
    # …and they do not count: a misunderstanding right after is the first one.
    after = [*thanked, user("affirm"), bot("utter_ok_continue")]
    assert responses(answer(after, "nlu_fallback")[0]) == ["utter_default"]


def test_an_off_topic_question_keeps_its_answer_and_counts() -> None:
    first, _ = answer(GREETED, "out_of_scope", "¿me cuenta un chiste?")
    assert responses(first) == ["utter_out_of_scope"]
    # «no sé» is out_of_scope too: right after a misunderstanding, the answer and the offer.
    history = [*GREETED, user("nlu_fallback", "asdf qwe"), bot("utter_default")]
    lost, _ = answer(history, "out_of_scope", "mmm no sé")
    assert responses(lost) == ["utter_out_of_scope", "utter_offer_human_other_need"]
    # Two off-topic questions in a row: still the real answer, then the offer.
    off_topic = [*GREETED, user("out_of_scope"), bot("utter_out_of_scope")]
    again, _ = answer(off_topic, "out_of_scope", "¿y quién gana la liga?")
    assert responses(again) == ["utter_out_of_scope", "utter_offer_human_other_need"]
    # …and a misunderstanding after an off-topic question.
    assert responses(answer(off_topic, "nlu_fallback")[0]) == ["utter_offer_human"]


def test_the_offer_after_an_off_topic_answer_is_answered_like_the_other() -> None:
    offered = [*GREETED, user("nlu_fallback"), bot("utter_default"), user("out_of_scope")]
    offered += [bot("utter_out_of_scope"), bot("utter_offer_human_other_need")]
    assert responses(answer(offered, "deny")[0]) == ["utter_ok_continue"]


def test_a_real_answer_ends_the_run() -> None:
    history = [*GREETED, user("nlu_fallback"), bot("utter_default"), user("ask_team"), bot("utter_team")]
    dispatcher, _ = answer(history, "deny", "mmm no sé")
    assert responses(dispatcher) == ["utter_how_can_i_help"]


def test_a_turn_rasa_itself_did_not_understand_counts() -> None:
    # No rule applied: Rasa's `action_default_fallback` said `utter_default` and reverted the message.
    history = [
        *GREETED,
        user("inform", "el cmts"),
        action("action_default_fallback"),
        bot("utter_default"),
        {"event": "rewind"},
    ]
    dispatcher, _ = answer(history, "nlu_fallback")
    assert responses(dispatcher) == ["utter_offer_human"]


def test_a_new_session_starts_the_count_again() -> None:
    history = [*GREETED, user("nlu_fallback"), bot("utter_default"), {"event": "session_started"}]
    dispatcher, _ = answer(history, "nlu_fallback")
    assert responses(dispatcher) == ["utter_default"]


def test_turns_and_the_run_are_read_from_the_bot_events() -> None:
    turns = turns_of([*GREETED, user("nlu_fallback"), bot("utter_default"), user("deny"), bot("utter_offer_human")])
    assert [(t.intent, t.replies) for t in turns] == [
        ("greet", ["utter_greet_named"]),
        ("nlu_fallback", ["utter_default"]),
        ("deny", ["utter_offer_human"]),
    ]
    assert consecutive_no_progress(turns) == 2
    assert consecutive_no_progress(turns[:1]) == 0


def test_the_offer_and_the_replies_exist_in_the_domain() -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    for name in ("utter_default", "utter_how_can_i_help", "utter_out_of_scope", "utter_ok_continue", "utter_goodbye"):
        assert name in domain["responses"], name
    for name in ("utter_offer_human", "utter_offer_human_other_need"):
        [offer] = domain["responses"][name]
        assert "desea que le comunique con un especialista?" in offer["text"].lower()
        assert [(b["title"], b["payload"]) for b in offer["buttons"]] == [
            ("Sí, con una persona", "/request_human"),
            ("No, sigo con el asistente", "/deny"),
        ]


def test_a_bare_yes_or_no_goes_to_the_fallback_only_outside_a_form() -> None:
    rules = yaml.safe_load((ROOT / "data/rules/basic.yml").read_text(encoding="utf-8"))["rules"]
    to_fallback = {
        rule["steps"][0]["intent"]: rule.get("condition")
        for rule in rules
        if rule["steps"][-1] == {"action": "action_promptlink_fallback"}
    }
    assert to_fallback == {
        "nlu_fallback": None,
        "out_of_scope": None,
        "affirm": [{"active_loop": None}],
        "deny": [{"active_loop": None}],
    }
    # No rule answers a yes/no by the previous action alone (it used to take any «no» after the
    # fallback as a declined offer).
    assert not [r for r in rules if r["steps"][0].get("action") == "action_promptlink_fallback"]


def test_a_report_the_classifier_could_not_place_starts_the_intake() -> None:
    from rasa_sdk.events import FollowupAction

    from actions.fallback import ActionFallback

    tracker = make_tracker(text="sería bueno exportar a Excel desde el panel", intent="nlu_fallback")
    dispatcher, events = run(ActionFallback(), tracker)
    assert events == [FollowupAction("action_start_incident")] and dispatcher.messages == []


def test_a_named_kind_or_a_course_booking_the_classifier_missed_is_started(fake) -> None:
    from rasa_sdk.events import FollowupAction

    from actions.fallback import ActionFallback

    _, events = run(ActionFallback(), make_tracker(text="tengo una falla de red", intent="nlu_fallback"))
    assert events == [FollowupAction("action_start_incident")]
    _, events = run(
        ActionFallback(), make_tracker(text="el cmts 2 sigue sin tráfico, ya lo reiniciamos", intent="nlu_fallback")
    )
    assert events == [FollowupAction("action_start_incident")]
    booking = "Necesito un curso para 5 personas el 1 de febrero de 2027 en la sede de Santiago"
    _, events = run(ActionFallback(), make_tracker(text=booking, intent="nlu_fallback"))
    assert events == [FollowupAction("training_form")]
