"""Read the UCI "Online Retail" layout (Chen, Sain & Guo 2012) into a StoreData.

Columns: InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country.
Every row is either turned into one purchase event or named in the report:

- a C-prefixed InvoiceNo is a **cancellation**: reported with code "cancellation", never a purchase;
- a quantity below 1, a unit price below 0.01, a missing CustomerID, an unreadable date: rejected;
- a StockCode that does not start with a digit (POST, M, D, C2, BANK CHARGES, ...) is a fee or a
  manual adjustment, not a product: rejected with code "not_a_product";
- a row identical to an earlier one: rejected as a duplicate.

What the layout lacks is filled in plainly (docs/STORE_FORMAT.md, "UCI Online Retail"):
customers are "uci-<CustomerID>", first name "Customer", no email, consent False, locale and
time zone from Country; products get the most common description and unit price of their
StockCode, stock UNKNOWN_STOCK, no image, arrival = first sale; timestamps are read as UTC (the
shop is in the UK; the data is from winter, when UK time is UTC). Underscores that replaced
spaces upstream in Description and Country are turned back into spaces.

Category: the last word of the description that is a known noun (`NOUN_CATEGORIES`, singular or
plural), mapped to a coarse category; words after it (colours, sizes, patterns such as DESIGN or
RETROSPOT) are skipped because they are not nouns in the table; "other" when none is found.

Material and colour are derived from the description too, since the layout has no such columns:
a word of the closed lists `MATERIAL_WORDS` / `COLOUR_WORDS` gives the attribute ("WOODEN" ->
"wood", "GREY"/"GRAY" -> "grey") when the description names exactly one of them; none, or two
different ones ("PINK BLUE", "GLASS JAR ... COTTON WOOL"), leave it "" (unknown) rather than guess.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from nudge.errors import ValidationError
from nudge.store import format as fmt
from nudge.store.loader import StoreData, raise_if_rejected
from nudge.store.report import ValidationReport
from nudge.types import Customer, Event, Product, StoreInfo

COLUMNS = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country")
UNKNOWN_STOCK = 100  # the layout has no stock; every product counts as in stock
DEFAULT_INFO = StoreInfo(
    name="Online Retail (UCI sample)",
    postal_address="1 Example Street, London, United Kingdom",
    base_url="https://shop.example.com",
    sender="Online Retail <news@shop.example.com>",
    currency="GBP",
)

# Country (as UCI spells it, spaces restored) -> (locale, IANA time zone).
COUNTRIES: dict[str, tuple[str, str]] = {
    "United Kingdom": ("en_GB", "Europe/London"),
    "EIRE": ("en_IE", "Europe/Dublin"),
    "Channel Islands": ("en_GB", "Europe/Jersey"),
    "France": ("fr_FR", "Europe/Paris"),
    "Germany": ("de_DE", "Europe/Berlin"),
    "Austria": ("de_AT", "Europe/Vienna"),
    "Switzerland": ("de_CH", "Europe/Zurich"),
    "Belgium": ("nl_BE", "Europe/Brussels"),
    "Netherlands": ("nl_NL", "Europe/Amsterdam"),
    "Spain": ("es_ES", "Europe/Madrid"),
    "Portugal": ("pt_PT", "Europe/Lisbon"),
    "Italy": ("it_IT", "Europe/Rome"),
    "Malta": ("mt_MT", "Europe/Malta"),
    "Greece": ("el_GR", "Europe/Athens"),
    "Cyprus": ("el_CY", "Asia/Nicosia"),
    "Norway": ("nb_NO", "Europe/Oslo"),
    "Sweden": ("sv_SE", "Europe/Stockholm"),
    "Denmark": ("da_DK", "Europe/Copenhagen"),
    "Finland": ("fi_FI", "Europe/Helsinki"),
    "Iceland": ("is_IS", "Atlantic/Reykjavik"),
    "Poland": ("pl_PL", "Europe/Warsaw"),
    "Czech Republic": ("cs_CZ", "Europe/Prague"),
    "Lithuania": ("lt_LT", "Europe/Vilnius"),
    "Israel": ("he_IL", "Asia/Jerusalem"),
    "Lebanon": ("ar_LB", "Asia/Beirut"),
    "Bahrain": ("ar_BH", "Asia/Bahrain"),
    "Saudi Arabia": ("ar_SA", "Asia/Riyadh"),
    "United Arab Emirates": ("ar_AE", "Asia/Dubai"),
    "RSA": ("en_ZA", "Africa/Johannesburg"),
    "Japan": ("ja_JP", "Asia/Tokyo"),
    "Hong Kong": ("zh_HK", "Asia/Hong_Kong"),
    "Singapore": ("en_SG", "Asia/Singapore"),
    "Australia": ("en_AU", "Australia/Sydney"),
    "USA": ("en_US", "America/New_York"),
    "Canada": ("en_CA", "America/Toronto"),
    "Brazil": ("pt_BR", "America/Sao_Paulo"),
    "European Community": ("en_GB", "Europe/Brussels"),
}
FALLBACK_COUNTRY = ("en_GB", "Europe/London")  # "Unspecified" and anything not above (warned)

# Coarse category -> the nouns (singular; a plural S/ES is also matched) that put a product in it.
_CATEGORY_NOUNS: dict[str, tuple[str, ...]] = {
    "lights & candles": tuple(
        "CANDLE HOLDER T-LIGHT TLIGHT LIGHT LANTERN LAMP NIGHTLIGHT CHANDELIER MATCHES INCENSE LAMPSHADE BURNER".split()
    ),
    "bags": tuple("BAG SHOPPER PURSE TOTE BACKPACK HANDBAG RUCKSACK CHARLOTTE".split()),
    "mugs & cups": tuple("MUG CUP SAUCER BEAKER TEACUP TUMBLER GLASS".split()),
    "tableware": tuple(
        "BOWL PLATE TRAY CUTLERY COASTER PLACEMAT TEAPOT JUG CAKESTAND STAND DISH SPOON SPOONS FORK STRAW "
        "NAPKIN DOILY DOILIES TEATIME CAFETIERE PLATTER TOASTRACK SETTINGS".split()
    ),
    "kitchen & baking": tuple(
        "APRON SCALES CUTTER CUTTERS SPONGE MOULD TIN CASE CASES OVEN GLOVE TOWEL LUNCHBOX LUNCH PANTRY CAKE "
        "BAKING WHISK ROLLING TIMER FOOD".split()
    ),
    "home decor": tuple(
        "SIGN DECORATION ORNAMENT HEART FRAME CLOCK MIRROR CUSHION GARLAND BUNTING WREATH DOORSTOP HANGER "
        "HOOK KNOB THERMOMETER CHALKBOARD CORNICE RACK DRAWER CABINET SHELF BELL FLAG PLAQUE DOORMAT VASE "
        "BLACKBOARD WALL MAGNET COAT BUTTERFLY FEATHER STAR ANGEL MOBILE PENNANT STOOL MUSHROOM TOADSTOOL "
        "ROSE SHELL PRINT GLOBE".split()
    ),
    "christmas": tuple("BAUBLE TREE STOCKING ADVENT CRACKER SNOWMAN SNOWMEN SANTA REINDEER".split()),
    "stationery & cards": tuple(
        "CARD NOTEBOOK STICKER STICKERS TAG TAGS TAPE WRAP PAPER PENCIL PEN ENVELOPE CALENDAR DIARY JOURNAL "
        "ERASER RULER STAMP NOTEPAD LETTER LETTERS BOOK ALBUM CHAIN RIBBON RIBBONS SKETCHBOOK POSTCARD "
        "MEMOBOARD SCISSOR SCISSORS P'WEIGHT PAPERWEIGHT".split()
    ),
    "toys & games": tuple(
        "DOLL GAME DOMINOES KIT PUZZLE JIGSAW SKITTLES TOY BALLOON BALL BABUSHKA SOLDIER TEDDY PLAYHOUSE "
        "SPINNING TOP MARBLES CHALK HARMONICA TATTOOS BUNNIES RATTLE".split()
    ),
    "bath & comfort": tuple(
        "BOTTLE TISSUES TISSUE SOAP WASHBAG SLIPPER BLANKET THROW COSY WARMER FLANNEL ROLL".split()
    ),
    "storage": tuple("BOX BOXES BASKET JAR CRATE HAMPER BIN CANISTER CONTAINER CADDY TRUNK POUFFE".split()),
    "garden": tuple("POT PLANTER WATERING FEEDER BIRDHOUSE GNOME PARASOL SEED SEEDS TROWEL".split()),
    "party": tuple("PARTY CONFETTI PINATA PICNIC".split()),
    "fashion & accessories": tuple(
        "UMBRELLA SCARF HAT GLOVES NECKLACE BRACELET EARRINGS CHARM HAIRCLIP HAIRBAND BROOCH RING KEYRING "
        "SUNGLASSES BADGE WALLET FAN HEADPHONES SKIRT COVER".split()
    ),
}
NOUN_CATEGORIES: dict[str, str] = {noun: category for category, nouns in _CATEGORY_NOUNS.items() for noun in nouns}
OTHER_CATEGORY = "other"
_WORD = re.compile(r"[A-Z][A-Z'\-]*")

# Description word -> Product.colour / Product.material (closed lists; whole words only, so
# SUNGLASSES is no glass). ROSE (a flower more often than a colour), SLATE (a drawing slate) and
# IRON (IRON ON patches) are left out on purpose.
COLOUR_WORDS: dict[str, str] = {
    **{word.upper(): word for word in "red pink blue green white black ivory cream gold silver".split()},
    **{word.upper(): word for word in "grey purple yellow orange brown natural turquoise lilac".split()},
    "GRAY": "grey",
}
MATERIAL_WORDS: dict[str, str] = {
    **{word.upper(): word for word in "wood glass ceramic enamel zinc tin metal paper cotton felt".split()},
    **{word.upper(): word for word in "wicker porcelain acrylic silk bamboo plastic".split()},
    "WOODEN": "wood",
    "TINS": "tin",
}


def category_for(description: str) -> str:
    """The coarse category of a UCI description (the last known noun, singular or plural).

    >>> category_for("WHITE HANGING HEART T-LIGHT HOLDER"), category_for("LUNCH BAG RED RETROSPOT")
    ('lights & candles', 'bags')
    """
    for word in reversed(_WORD.findall(description.upper())):
        for candidate in (word, word[:-1] if word.endswith("S") else "", word[:-2] if word.endswith("ES") else ""):
            if candidate and candidate in NOUN_CATEGORIES:
                return NOUN_CATEGORIES[candidate]
    return OTHER_CATEGORY


def _the_one(description: str, words: dict[str, str]) -> str:
    """The attribute named by the description's words, or "" when none or two different are named."""
    found = {words[w] for w in _WORD.findall(description.upper()) if w in words}
    return found.pop() if len(found) == 1 else ""


def attributes_for(description: str) -> tuple[str, str]:
    """(material, colour) derived from a UCI description; "" where it names none, or two different.

    >>> attributes_for("WHITE METAL LANTERN"), attributes_for("SET OF 3 CAKE TINS PINK BLUE")
    (('metal', 'white'), ('tin', ''))
    """
    return _the_one(description, MATERIAL_WORDS), _the_one(description, COLOUR_WORDS)


def _pretty(description: str) -> str:
    """'WHITE HANGING HEART T-LIGHT HOLDER' -> 'White Hanging Heart T-Light Holder'."""

    def word(w: str) -> str:
        return "-".join(part[:1].upper() + part[1:].lower() for part in w.split("-"))

    return " ".join(word(w) for w in description.split())


def _parse_time(value: str) -> datetime:
    """ISO ('2010-12-01 08:26:00') or the original spreadsheet export ('12/1/2010 8:26'), as UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = datetime.strptime(value, "%m/%d/%Y %H:%M")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(slots=True)
class _Sale:
    row: int
    customer_id: str
    stock_code: str
    description: str
    quantity: int
    price: Decimal
    when: datetime
    country: str


def load_online_retail(
    csv_path: str | Path,
    *,
    as_of: date | None = None,
    info: StoreInfo = DEFAULT_INFO,
    strict: bool = False,
    max_listed: int = 10,
) -> StoreData:
    """Read a UCI Online Retail CSV into a StoreData of purchases, with a report of every row left out.

    `as_of` defaults to the day after the last sale, so every sale is history; pass an earlier
    date to hold out the sales from as_of (00:00 UTC) on as `heldout_events`.

    >>> store = load_online_retail("../shared/data/online-retail-uci-first20k/online_retail.csv")  # doctest: +SKIP
    >>> store.report.by_code()["cancellation"]  # doctest: +SKIP
    458
    """
    path = Path(csv_path)
    if not path.is_file():
        raise ValidationError(f"expected a UCI Online Retail CSV at {str(path)!r}, found none")
    name = path.name
    report = ValidationReport()
    sales: list[_Sale] = []
    seen: dict[tuple[str, ...], int] = {}
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise ValidationError(f"{name}: expected columns {missing} in the header, got {header}")
        at = {c: header.index(c) for c in COLUMNS}
        report.read(name, 0)
        for row, cells in enumerate(reader, start=2):
            if not cells:
                continue
            report.read(name)
            if len(cells) != len(header):
                report.reject(name, row, "*", "bad_value", f"expected {len(header)} fields, got {len(cells)}")
                continue
            cell = {c: cells[i].strip() for c, i in at.items()}
            invoice, code = cell["InvoiceNo"], cell["StockCode"]
            if invoice.upper().startswith("C"):
                report.reject(
                    name,
                    row,
                    "InvoiceNo",
                    "cancellation",
                    f"cancellation: invoice {invoice} reverses a sale of {code or '?'}; "
                    "reported, not turned into a purchase",
                )
                continue
            problem = _check(cell)
            if problem:
                report.reject(name, row, *problem)
                continue
            key = tuple(cells)
            if key in seen:
                report.reject(name, row, "*", "duplicate", f"expected a new sale line, got a copy of row {seen[key]}")
                continue
            seen[key] = row
            raw_id = cell["CustomerID"]
            sales.append(
                _Sale(
                    row=row,
                    customer_id="uci-" + (raw_id[:-2] if raw_id.endswith(".0") else raw_id),
                    stock_code=code,
                    description=" ".join(cell["Description"].replace("_", " ").split()),
                    quantity=int(cell["Quantity"]),
                    price=Decimal(cell["UnitPrice"]).quantize(Decimal("0.01")),
                    when=_parse_time(cell["InvoiceDate"]),
                    country=" ".join(cell["Country"].replace("_", " ").split()),
                )
            )
    report.accept(name, len(sales))
    if not sales:
        raise ValidationError(f"{name}: expected at least one valid sale, got none ({report.summary()})")
    sales.sort(key=lambda s: (s.when, s.row))
    last_day = sales[-1].when.date()
    as_of = as_of or last_day + timedelta(days=1)
    products = _products(sales, info)
    customers = _customers(sales, report)
    cutoff = fmt.cutoff(as_of)
    events = [Event(s.customer_id, s.stock_code, "purchase", s.when, s.quantity) for s in sales]
    store = StoreData(
        products=products,
        customers=customers,
        events=[e for e in events if e.timestamp < cutoff],
        heldout_events=[e for e in events if e.timestamp >= cutoff],
        info=info,
        as_of=as_of,
        report=report,
        source=f"online_retail:{path}",
    )
    if strict:
        raise_if_rejected(report, where=str(path), max_listed=max_listed)
    return store


def _check(cell: dict[str, str]) -> tuple[str, str, str] | None:
    """(column, code, reason) for the first problem of a sale row, or None."""
    code = cell["StockCode"]
    if not code:
        return "StockCode", "missing", "expected a StockCode, got an empty value"
    if not code[0].isdigit():
        return (
            "StockCode",
            "not_a_product",
            f"expected a product StockCode (starting with a digit), got {code!r} (a fee or adjustment line)",
        )
    if not cell["CustomerID"]:
        return "CustomerID", "missing", "expected a CustomerID, got an empty value"
    if not cell["Description"]:
        return "Description", "missing", "expected a description, got an empty value"
    try:
        quantity = int(cell["Quantity"])
    except ValueError:
        return "Quantity", "bad_value", f"expected a whole number, got {cell['Quantity']!r}"
    if quantity < 1:
        return "Quantity", "bad_value", f"expected a quantity >= 1 on a sale, got {quantity}"
    try:
        price = Decimal(cell["UnitPrice"])
    except InvalidOperation:
        return "UnitPrice", "bad_value", f"expected a decimal price, got {cell['UnitPrice']!r}"
    if not price.is_finite() or price < Decimal("0.01"):
        return "UnitPrice", "bad_value", f"expected a unit price of at least 0.01, got {cell['UnitPrice']!r}"
    try:
        _parse_time(cell["InvoiceDate"])
    except ValueError:
        return (
            "InvoiceDate",
            "bad_value",
            f"expected a date-time such as 2010-12-01 08:26:00, got {cell['InvoiceDate']!r}",
        )
    return None


def _products(sales: list[_Sale], info: StoreInfo) -> dict[str, Product]:
    descriptions: dict[str, Counter[str]] = {}
    prices: dict[str, Counter[Decimal]] = {}
    first_sale: dict[str, date] = {}
    for s in sales:
        descriptions.setdefault(s.stock_code, Counter())[s.description] += 1
        prices.setdefault(s.stock_code, Counter())[s.price] += 1
        first_sale.setdefault(s.stock_code, s.when.date())
    products = {}
    for code in sorted(descriptions):
        # most common, ties to the alphabetically first description and the lowest price
        description = min(descriptions[code].items(), key=lambda kv: (-kv[1], kv[0]))[0]
        price = min(prices[code].items(), key=lambda kv: (-kv[1], kv[0]))[0]
        material, colour = attributes_for(description)
        products[code] = Product(
            product_id=code,
            name=_pretty(description),
            description=_pretty(description),
            category=category_for(description),
            price=price,
            currency=info.currency,
            stock=UNKNOWN_STOCK,
            image_url="",
            arrival_date=first_sale[code],
            url=f"{info.base_url}/products/{code}",
            material=material,
            colour=colour,
        )
    return products


def _customers(sales: list[_Sale], report: ValidationReport) -> dict[str, Customer]:
    customers: dict[str, Customer] = {}
    unknown: set[str] = set()
    for s in sales:  # sorted by time: the first sale sets country and signup date
        if s.customer_id in customers:
            continue
        if s.country not in COUNTRIES:
            unknown.add(s.country)
        locale, zone = COUNTRIES.get(s.country, FALLBACK_COUNTRY)
        customers[s.customer_id] = Customer(
            customer_id=s.customer_id,
            first_name="Customer",
            email="",
            locale=locale,
            timezone=zone,
            birthday=None,
            consent=False,
            loyalty_tier="none",
            signup_date=s.when.date(),
        )
    if unknown:
        report.warnings.append(f"countries without a locale mapping, given {FALLBACK_COUNTRY}: {sorted(unknown)}")
    return customers
