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
