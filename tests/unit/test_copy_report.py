"""Copy variety report: GIVEN filled emails and their data values WHEN measured THEN the values go
back as slots and each campaign's variety, personal share and top line come out as counted by hand."""

from nudge_local.copy_report import copy_variety, failed_bars, skeleton


def email(subject, preheader, intro, name="Ada", product="Blue Mug"):
    return {"campaign_type": "win_back", "subject": subject, "preheader": preheader, "intro": intro,
            "values": [("first_name", name), ("product", product), ("category", "Planters"), ("store_name", "Kiln")]}


def test_values_go_back_as_slots_whole_words_and_modifier_forms_too():
    values = [("first_name", "Al"), ("category", "Planters"), ("product", "Planter Set")]
    assert skeleton("Hi Al, new Planter pieces and Planter Set. Also Planters.", values) == \
        "Hi {first_name}, new {category} pieces and {product}. Also {category}."
    assert skeleton("Always", values) == "Always"  # "Al" only as a whole word


def test_variety_and_personal_shares_are_counted_per_campaign():
    # GIVEN four emails: two subject skeletons (names differ, skeleton the same), one line in all four
    emails = [
        email("Ada, we hope you are well", "A note.", "We hope all is well with you. We picked Blue Mug."),
        email("Bo, we hope you are well", "A note.", "We hope all is well with you. We picked Oak Board.", name="Bo", product="Oak Board"),
        email("Just checking in from Kiln", "A note for Ada.", "We hope all is well with you. Hi."),
        email("Just checking in from Kiln", "A note.", "We hope all is well with you. Bye."),
    ]
    report = copy_variety(emails)["win_back"]
    assert report["subject_skeletons"] == 0.5 and report["preheader_skeletons"] == 0.5
    assert report["intros"] == 1.0 and report["intro_skeletons"] == 0.75
    assert report["personal_subjects"] == 0.5 and report["personal_preheaders"] == 0.25
    assert report["top_line_share"] == 1.0 and report["quoted_errors"] == 0
    assert "win_back: top_line_share 1.0 (bar <= 0.25)" in failed_bars({"win_back": report})


def test_a_quoted_broken_phrase_is_counted():
    report = copy_variety([email("Hi", "A note.", "We simply wanted to thanks for being with us.")])["win_back"]
    assert report["quoted_errors"] == 1
