"""The greeting line: GIVEN copy that already greets the reader WHEN rendered THEN no second hello."""

import pytest

from nudge.render import render_email
from nudge.render.samples import copy, email_args


@pytest.mark.parametrize("intro", ["Hi Ada, new things arrived.", "Hello there, welcome back.", "Ada, the shelves are full."])
def test_copy_that_greets_replaces_the_template_greeting(intro):
    email = render_email(**email_args(copy=copy(intro=intro)))
    assert 'class="greeting"' not in email.html
    assert intro.split(",")[0] in email.text


def test_copy_without_greeting_keeps_the_template_greeting():
    email = render_email(**email_args(copy=copy(intro="We have been busy in the workshop.")))
    assert 'class="greeting"' in email.html
    assert "Hi Ada," in email.text  # the new-arrivals theme greeting
