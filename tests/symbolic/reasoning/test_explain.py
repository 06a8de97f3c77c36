"""Decisions in words and as a page."""
from symbolic.reasoning.decision import Decision, RuleInstance, WhyNot
from symbolic.reasoning.explain import decision_to_html, format_decision


def test_text_names_fallback_ties_uncertainty_and_repairs():
    decision = Decision("stop", status="timeout", fallback=True, tied=["yield"], uncertain=["light(o3, red)"],
                        repaired=["light(o3, green)"], timings_ms={"total": 1.5},
                        why_not={"go": WhyNot("go", [RuleInstance("red_light", ("o3",))], ["light(o3, red)"],
                                              "go breaks red_light[o3]")})
    lines = format_decision(decision).splitlines()
    assert lines == ["action: stop (timeout, 1.50 ms)",
                     "fallback: the safe action, because the time budget ran out",
                     "tied with: yield (the first on the actions line wins)",
                     "uncertain facts that mattered: light(o3, red)",
                     "repaired (flipped) facts: light(o3, green)",
                     "fired: none",
                     "why not:",
                     "  go: go breaks red_light[o3]"]


def test_html_escapes_and_lists_every_action():
    decision = Decision("a<b", fired=[RuleInstance("r", ("o1",), "x.rules:3")],
                        why_not={"c": WhyNot("c", text="c & d"), "e": WhyNot("e", text="no")})
    page = decision_to_html(decision)
    assert "<h1>a&lt;b</h1>" in page and "c &amp; d" in page and "x.rules:3" in page
    assert page.count("<tr>") == 1 + 1 + 1 + 2  # fired header + row, why-not header + 2 rows


def test_text_and_page_say_why_the_fallback_came_and_what_was_cut_short():
    decision = Decision("stop", status="timeout", fallback=True,
                        reason="the time budget ran out while grounding the rules, in rule r (a.rules:4) (budget 50 ms)")
    assert format_decision(decision).splitlines()[1] == (
        "fallback: the safe action, because the time budget ran out while grounding the rules, in rule r "
        "(a.rules:4) (budget 50 ms)")
    cut = Decision("stop", cut_short="the time budget ran out while explaining why not the other actions "
                                     "(budget 50 ms): the why-nots may be incomplete")
    assert format_decision(cut).splitlines()[1].startswith("explanation cut short: the time budget ran out while ")
    assert "explanation cut short: the time budget ran out" in decision_to_html(cut)
