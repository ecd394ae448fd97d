"""Why a product is in an email, as a message key and its arguments.

The ranker records the key (and the product or category it names); the renderer shows the
message in the customer's language (nudge.i18n). `RankedItem.reason` keeps the English text for
the audit record and the gallery.

>>> explain("bought", product="Blue Mug")
('Because you bought Blue Mug', 'bought', (('product', 'Blue Mug'),))
"""

from __future__ import annotations

from typing import Callable

from nudge.i18n import N_

REASONS = {
    "in_cart": N_("Still in your basket"),
    # a purchase due to be bought again (nudge.recommend.repurchase); weeks from 2 up, else the short one
    "reorder": N_("Time to reorder: last bought %(weeks)s weeks ago"),
    "reorder_soon": N_("Time to reorder"),
    "goes_with": N_("Goes with %(product)s in your basket"),
    "bought": N_("Because you bought %(product)s"),
    "added": N_("Because you added %(product)s to your basket"),
    "viewed": N_("Because you viewed %(product)s"),
    "new_in": N_("New in %(category)s"),
    "new_in_liked": N_("New in %(category)s, which you like"),
    "popular": N_("Popular in %(category)s"),
    "popular_liked": N_("Popular in %(category)s, which you like"),
}


def explain(key: str, **args: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """(English text, key, arguments) for RankedItem(reason=, reason_key=, reason_args=)."""
    return REASONS[key] % args, key, tuple(sorted(args.items()))


def localized_reason(text: str, key: str, args: tuple[tuple[str, str], ...], gettext: Callable[[str], str]) -> str:
    """The reason in the catalog's language; a reason without a known key is shown as given."""
    if key not in REASONS:
        return text
    return gettext(REASONS[key]) % dict(args)
