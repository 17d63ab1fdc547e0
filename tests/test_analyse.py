"""Stage 3, analyse: the figures a brief shows are derived correctly from the assessment."""

from collections import Counter
from pathlib import Path

import pytest
from helpers import SAMPLE, SAMPLE_TEXT, line_of, replace_line, replace_once

from briefgen.analyse import Analysis, analyse
from briefgen.models import Stance, Strength
from briefgen.pipeline import read_assessment


def analysed(tmp_path: Path, text: str) -> Analysis:
    path = tmp_path / "brief.yaml"
    path.write_text(text, encoding="utf-8")
    return analyse(read_assessment(path))


@pytest.fixture(scope="module")
def sample() -> Analysis:
    return analyse(read_assessment(SAMPLE))


def test_the_analysis_carries_the_brief_id_and_assessment(sample: Analysis, sample_data: dict) -> None:
    assert sample.brief_id == "csto-astana-2018"
    assert sample.assessment.brief.title == sample_data["brief"]["title"]


def test_scorecard_counts_match_the_verdicts(sample: Analysis, sample_data: dict) -> None:
    verdicts = Counter(outcome["verdict"] for outcome in sample_data["outcomes"])
    card = sample.scorecard
    assert len(card.successes) == verdicts["success"]
    assert len(card.mixed) == verdicts["mixed"]
    assert len(card.failures) == verdicts["failure"]
    assert card.total == len(sample_data["outcomes"])
    # each group keeps the source's order
    for group, verdict in ((card.successes, "success"), (card.mixed, "mixed"), (card.failures, "failure")):
        expected = [o["id"] for o in sample_data["outcomes"] if o["verdict"] == verdict]
        assert [o.id for o in group] == expected


def test_scorecard_with_a_mixed_outcome(tmp_path: Path) -> None:
    text = replace_line(SAMPLE_TEXT, line_of(SAMPLE_TEXT, "    verdict: failure"), "failure", "mixed")
    card = analysed(tmp_path, text).scorecard
    assert [o.id for o in card.mixed] == ["secretary-general-deadlock"]
    assert [o.id for o in card.failures] == ["aliyev-invitation"]
    assert card.total == 4


def test_matrix_has_one_cell_per_member_per_issue(sample: Analysis, sample_data: dict) -> None:
    members = [m["id"] for m in sample_data["event"]["members"]]
    issues = sample_data["cohesion"]["issues"]
    assert [row.id for row in sample.matrix] == [issue["id"] for issue in issues]
    for row, issue in zip(sample.matrix, issues, strict=True):
        assert row.title == issue["title"]
        assert len(row.cells) == len(members)
        given = {p["member"]: p for p in issue["positions"]}
        for member, cell in zip(members, row.cells, strict=True):
            assert cell.stance.value == given[member]["stance"]
            assert cell.note == given[member].get("note")
        assert sum(row.counts.values()) == len(members)
        assert row.counts == {stance: sum(c.stance is stance for c in row.cells) for stance in Stance}


def test_divided_and_agreement(sample: Analysis) -> None:
    rows = {row.id: row for row in sample.matrix}
    zas = rows["zas-as-secretary-general"]
    assert zas.counts[Stance.SUPPORTS] == 2 and zas.counts[Stance.OPPOSES] == 1
    assert zas.divided
    assert zas.agreement == round(100 * 2 / 6)
    assert not rows["inf-treaty"].divided
    assert rows["inf-treaty"].agreement == 100
    assert sample.divided_issues == 2


def test_members_without_a_position_are_filled_in_as_undeclared(tmp_path: Path) -> None:
    # keep only Russia's and Armenia's positions on the INF issue, given in the opposite order to the members
    issue = line_of(SAMPLE_TEXT, "    - id: inf-treaty")
    first = line_of(SAMPLE_TEXT, "        - member: armenia", issue)
    last = line_of(
        SAMPLE_TEXT, "          stance: supports", line_of(SAMPLE_TEXT, "        - member: tajikistan", issue)
    )
    positions = (
        "        - member: russia\n"
        "          stance: supports\n"
        "          note: Rallied the others.\n"
        "        - member: armenia\n"
        "          stance: opposes"
    )
    lines = SAMPLE_TEXT.split("\n")
    text = "\n".join([*lines[: first - 1], positions, *lines[last:]])
    row = next(row for row in analysed(tmp_path, text).matrix if row.id == "inf-treaty")
    stances = [cell.stance for cell in row.cells]
    assert stances == [
        Stance.OPPOSES,  # armenia
        Stance.UNDECLARED,  # belarus
        Stance.UNDECLARED,  # kazakhstan
        Stance.UNDECLARED,  # kyrgyzstan
        Stance.SUPPORTS,  # russia
        Stance.UNDECLARED,  # tajikistan
    ]
    assert [cell.note for cell in row.cells] == [None, None, None, None, "Rallied the others.", None]
    assert row.counts[Stance.UNDECLARED] == 4
    assert row.divided
    assert row.agreement == round(100 / 6)


def test_citations_are_numbered_in_first_citation_order(sample: Analysis) -> None:
    assert [(c.number, c.source.id) for c in sample.citations] == [(1, "jorbenadze-2018"), (2, "inf-treaty-1987")]
    assert sample.cite("inf-treaty-1987").number == 2


def test_citation_order_follows_the_text_not_the_source_list(tmp_path: Path) -> None:
    # list the sources in reverse, and add one that nobody cites at the top of the list
    start = line_of(SAMPLE_TEXT, "sources:", line_of(SAMPLE_TEXT, "  indicators:"))
    jorbenadze = "\n".join(SAMPLE_TEXT.split("\n")[start : start + 4])
    inf = "\n".join(SAMPLE_TEXT.split("\n")[start + 4 :]).rstrip("\n")
    uncited = "  - id: tass-2018\n    title: Press release\n    reliability: C3"
    text = "\n".join(SAMPLE_TEXT.split("\n")[:start]) + "\n" + uncited + "\n" + inf + "\n" + jorbenadze + "\n"
    analysis = analysed(tmp_path, text)
    assert [s.id for s in analysis.assessment.sources] == ["tass-2018", "inf-treaty-1987", "jorbenadze-2018"]
    assert [(c.number, c.source.id) for c in analysis.citations] == [
        (1, "jorbenadze-2018"),
        (2, "inf-treaty-1987"),
        (3, "tass-2018"),
    ]


def test_a_source_first_cited_by_a_later_judgment_is_numbered_then(tmp_path: Path) -> None:
    second_refs = line_of(
        SAMPLE_TEXT, "    sources: [jorbenadze-2018]", line_of(SAMPLE_TEXT, "  - id: russia-stays-aloof")
    )
    text = replace_line(SAMPLE_TEXT, second_refs, "[jorbenadze-2018]", "[inf-treaty-1987, jorbenadze-2018]")
    first_refs = line_of(SAMPLE_TEXT, "    sources: [jorbenadze-2018]")
    text = replace_line(text, first_refs, "[jorbenadze-2018]", "[inf-treaty-1987]")
    analysis = analysed(tmp_path, text)
    assert [(c.number, c.source.id) for c in analysis.citations] == [(1, "inf-treaty-1987"), (2, "jorbenadze-2018")]


def test_citations_carry_their_sources_grades(sample: Analysis) -> None:
    assert sample.cite("jorbenadze-2018").source.reliability == "B2"
    assert sample.cite("inf-treaty-1987").source.reliability == "A1"


def test_exposures_exclude_the_dominant_power(sample: Analysis, sample_data: dict) -> None:
    power = sample_data["leverage"]["power"]
    assert sample.power.id == power
    members = [m["id"] for m in sample_data["event"]["members"]]
    assert [e.member.id for e in sample.exposures] == [m for m in members if m != power]
    for exposure in sample.exposures:
        expected = [lv["instrument"] for lv in sample_data["leverage"]["levers"] if exposure.member.id in lv["over"]]
        assert [lever.instrument for lever in exposure.levers] == expected
    strongest = {e.member.id: e.strongest for e in sample.exposures}
    assert strongest["armenia"] is Strength.STRONG
    assert strongest["belarus"] is Strength.MODERATE
    assert strongest["kazakhstan"] is Strength.MODERATE


def test_exposures_follow_whichever_member_is_the_power(tmp_path: Path) -> None:
    text = replace_line(SAMPLE_TEXT, line_of(SAMPLE_TEXT, "  power: russia"), "russia", "kazakhstan")
    analysis = analysed(tmp_path, text)
    assert analysis.power.name == "Kazakhstan"
    ids = [e.member.id for e in analysis.exposures]
    assert "kazakhstan" not in ids  # even though levers list it among their targets
    assert ids == ["armenia", "belarus", "kyrgyzstan", "russia", "tajikistan"]
    russia = next(e for e in analysis.exposures if e.member.id == "russia")
    assert russia.levers == () and russia.strongest is None


def test_a_weak_lever_alone_gives_weak_exposure(tmp_path: Path) -> None:
    # Kazakhstan is under three moderate levers; drop two and weaken the third
    text = replace_once(
        SAMPLE_TEXT,
        "      over: [armenia, belarus, kazakhstan, kyrgyzstan]\n      strength: moderate",
        "      over: [armenia, belarus, kyrgyzstan]\n      strength: moderate",
    )
    agenda = line_of(text, "    - instrument: Agenda-setting within the CSTO")
    text = replace_line(text, agenda + 2, "moderate", "weak")
    arms = line_of(text, "    - instrument: Arms supplies at Russian domestic prices")
    text = replace_line(text, arms + 1, "belarus, kazakhstan,", "belarus,")
    exposure = next(e for e in analysed(tmp_path, text).exposures if e.member.id == "kazakhstan")
    assert [lever.instrument for lever in exposure.levers] == ["Agenda-setting within the CSTO"]
    assert exposure.strongest is Strength.WEAK
