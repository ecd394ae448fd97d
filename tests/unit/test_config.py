"""Configuration: GIVEN an environment WHEN settings are read THEN values, or an error naming the variable."""

import pytest

from nudge.config import Settings, markdown_table
from nudge.errors import ConfigError


def test_missing_required_variable_is_named():
    settings = Settings.from_env(env={})
    with pytest.raises(ConfigError, match="NUDGE_OUTPUT_BUCKET"):
        settings.require("output_bucket", "profile_table")


def test_explicit_argument_beats_the_environment():
    settings = Settings.from_env(env={"NUDGE_HOLDOUT_SHARE": "0.3"}, overrides={"holdout_share": "0.05"})
    assert settings.holdout_share == 0.05


@pytest.mark.parametrize("value", ["1.5", "-0.1", "ten"])
def test_bad_holdout_share_is_refused(value):
    with pytest.raises(ConfigError, match="NUDGE_HOLDOUT_SHARE"):
        Settings.from_env(env={"NUDGE_HOLDOUT_SHARE": value})


def test_readme_documents_every_variable():
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for line in markdown_table().splitlines()[2:]:
        variable = line.split("`")[1]
        assert variable in readme, f"{variable} missing from the README's configuration table"


def test_link_lifetimes_and_the_open_pixel_are_read_and_checked():
    settings = Settings.from_env(env={"NUDGE_LINK_CLICK_TTL_DAYS": "30", "NUDGE_OPEN_PIXEL": "true"})
    assert (settings.link_click_ttl_days, settings.link_unsubscribe_ttl_days, settings.open_pixel) == (30, 400, True)
    assert Settings.from_env(env={}).open_pixel is False
    for bad in ("0", "ten", "4000"):
        with pytest.raises(ConfigError, match="NUDGE_LINK_UNSUBSCRIBE_TTL_DAYS"):
            Settings.from_env(env={"NUDGE_LINK_UNSUBSCRIBE_TTL_DAYS": bad})


def test_the_link_base_url_gives_the_endpoint_routes_and_must_be_https():
    from nudge.service import endpoint_urls

    assert endpoint_urls("") == {}
    assert endpoint_urls("https://x.lambda-url.us-east-1.on.aws/") == {
        "unsubscribe_url": "https://x.lambda-url.us-east-1.on.aws/unsubscribe",
        "preferences_url": "https://x.lambda-url.us-east-1.on.aws/preferences",
        "click_url": "https://x.lambda-url.us-east-1.on.aws/click",
    }
    assert endpoint_urls("https://l.shop.example/l", open_pixel=True)["open_url"] == "https://l.shop.example/l/open"
    with pytest.raises(ConfigError, match="NUDGE_LINK_BASE_URL"):
        endpoint_urls("http://plain.example")
