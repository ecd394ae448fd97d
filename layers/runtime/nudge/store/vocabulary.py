"""Vocabularies for the synthetic store (nudge.store.generate): written for this project.

A gift / home / fashion shop with 30 categories. Each category lists the product nouns it sells,
materials, what varies between items (colours, scents, patterns), a plausible GBP price range,
and words for descriptions and reviews. Taste segments group categories that one kind of
customer buys together. No digits in any phrase, so names and descriptions read as prose.
The catalog attributes (material, colour) are derived from the same words (`MATERIAL_OF` and
the tables after it), so that they agree with the name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CategorySpec:
    nouns: tuple[str, ...]  # product types, title case: "Pillar Candle"
    materials: tuple[str, ...]  # title case, may be used as a name word: "Soy Wax"
    modifiers: tuple[str, ...]  # what varies: colours, scents, patterns
    price: tuple[float, float]  # plausible GBP range (low, high)
    review_noun: str  # singular, for reviews: "candle"
    aspects: tuple[str, ...]  # what reviewers talk about: "scent", "burn"
    details: tuple[str, ...]  # one sentence each, for descriptions


COLOURS = (
    "Sage", "Oat", "Charcoal", "Ivory", "Terracotta", "Ochre", "Navy", "Forest Green", "Blush",
    "Rust", "Slate", "Mustard", "Teal", "Cream", "Plum", "Duck Egg", "Stone", "Ink Blue", "Olive",
    "Coral", "Heather", "Sand", "Moss", "Berry",
)
SCENTS = (
    "Fig & Cedar", "Amber & Oud", "Sea Salt & Driftwood", "Wild Fig", "Lavender & Chamomile",
    "Orange Blossom", "Smoked Vetiver", "Pomegranate Noir", "Rose & Peony", "Black Pepper",
    "Bergamot & Sage", "Vanilla Bean", "Winter Spice", "Fresh Linen", "Grapefruit & Mint",
    "Tobacco Leaf", "Jasmine", "Pine Needle",
)
PATTERNS = (
    "Botanical", "Stripe", "Gingham", "Ditsy Floral", "Herringbone", "Polka Dot", "Leopard",
    "Paisley", "Geometric", "Check", "Fair Isle", "Marble", "Wave", "Chevron", "Star", "Hare Print",
)

CATEGORIES: dict[str, CategorySpec] = {
    "candles": CategorySpec(
        nouns=(
            "Candle", "Pillar Candle", "Jar Candle", "Travel Candle", "Tealight Set", "Taper Candles",
            "Three Wick Candle",
        ),
        materials=("Soy Wax", "Beeswax", "Rapeseed Wax", "Coconut Wax"),
        modifiers=SCENTS,
        price=(6.0, 48.0),
        review_noun="candle",
        aspects=("scent", "burn", "throw", "jar"),
        details=(
            "Hand poured in small batches.", "Cotton wick and a reusable glass jar.",
            "Burns cleanly for around forty hours.", "The scent fills a room without being heavy.",
        ),
    ),
    "home fragrance": CategorySpec(
        nouns=("Reed Diffuser", "Room Spray", "Wax Melts", "Scented Sachet", "Diffuser Refill", "Incense Cones"),
        materials=("Essential Oil", "Ceramic", "Glass", "Rattan"),
        modifiers=SCENTS,
        price=(5.0, 42.0),
        review_noun="diffuser",
        aspects=("scent", "strength", "bottle"),
        details=(
            "Lasts for around three months.", "Blended with natural essential oils.",
            "A subtle scent for hallways and small rooms.",
        ),
    ),
    "cushions": CategorySpec(
        nouns=("Cushion", "Cushion Cover", "Bolster Cushion", "Floor Cushion", "Piped Cushion"),
        materials=("Linen", "Velvet", "Cotton", "Bouclé", "Wool", "Chunky Knit", "Embroidered Cotton"),
        modifiers=COLOURS + PATTERNS,
        price=(15.0, 65.0),
        review_noun="cushion",
        aspects=("fabric", "colour", "filling", "stitching"),
        details=(
            "Feather-filled for a plump, relaxed shape.", "Concealed zip and a removable cover.",
            "Washable cover that softens with age.",
        ),
    ),
    "throws": CategorySpec(
        nouns=("Throw", "Blanket", "Bed Runner", "Picnic Blanket", "Knitted Throw"),
        materials=("Wool", "Cotton", "Cashmere Blend", "Mohair Blend", "Faux Fur", "Recycled Wool"),
        modifiers=COLOURS + PATTERNS,
        price=(25.0, 140.0),
        review_noun="throw",
        aspects=("warmth", "softness", "colour", "size"),
        details=(
            "Generous enough for a double bed.", "Woven in a traditional mill.",
            "Finished with hand-knotted tassels.",
        ),
    ),
    "rugs": CategorySpec(
        nouns=("Rug", "Runner", "Doormat", "Round Rug", "Bath Mat"),
        materials=("Jute", "Wool", "Cotton", "Sisal", "Recycled Cotton"),
        modifiers=COLOURS + PATTERNS,
        price=(18.0, 260.0),
        review_noun="rug",
        aspects=("pile", "colour", "size", "backing"),
        details=("Hand woven with a flat, durable weave.", "Non-slip backing.", "Reversible for longer wear."),
    ),
    "vases": CategorySpec(
        nouns=("Vase", "Bud Vase", "Jug Vase", "Bottle Vase", "Stem Vase Trio"),
        materials=("Stoneware", "Recycled Glass", "Porcelain", "Terracotta", "Ribbed Glass"),
        modifiers=COLOURS,
        price=(9.0, 75.0),
        review_noun="vase",
        aspects=("glaze", "shape", "size", "colour"),
        details=(
            "Watertight for fresh flowers.", "Each piece has its own glaze marks.",
            "Lovely with dried stems too.",
        ),
    ),
    "wall art": CategorySpec(
        nouns=("Art Print", "Framed Print", "Canvas", "Botanical Print", "Poster", "Wall Hanging"),
        materials=("Giclée", "Watercolour", "Linocut", "Macramé", "Screen Print"),
        modifiers=(
            "Coastal", "Botanical", "Abstract", "Mountain", "Still Life", "Botanic Garden", "City Map",
            "Wildflower", "Bird", "Ocean",
        ),
        price=(12.0, 180.0),
        review_noun="print",
        aspects=("colour", "paper", "frame", "print quality"),
        details=("Printed on heavyweight archival paper.", "Ready to hang.", "Signed by the illustrator."),
    ),
    "photo frames": CategorySpec(
        nouns=("Photo Frame", "Multi Aperture Frame", "Box Frame", "Desk Frame", "Photo Album"),
        materials=("Oak", "Brass", "Walnut", "Rattan", "Recycled Plastic", "Linen"),
        modifiers=COLOURS,
        price=(8.0, 55.0),
        review_noun="frame",
        aspects=("finish", "glass", "stand"),
        details=("Stands on a desk or hangs on a wall.", "Glass front and a velvet back.", "Takes a standard print."),
    ),
    "clocks": CategorySpec(
        nouns=("Wall Clock", "Mantel Clock", "Alarm Clock", "Station Clock"),
        materials=("Oak", "Metal", "Brass", "Walnut", "Enamel"),
        modifiers=COLOURS,
        price=(18.0, 120.0),
        review_noun="clock",
        aspects=("tick", "face", "finish"),
        details=("Silent sweep movement.", "Large, easy-to-read numerals.", "Runs on a single battery."),
    ),
    "lamps": CategorySpec(
        nouns=("Table Lamp", "Floor Lamp", "Desk Lamp", "Pendant Shade", "Lantern", "String Lights"),
        materials=("Ceramic", "Rattan", "Brass", "Linen", "Glass", "Paper"),
        modifiers=COLOURS,
        price=(14.0, 220.0),
        review_noun="lamp",
        aspects=("light", "shade", "base", "cable"),
        details=("Gives a warm, soft light.", "Fabric cable and an inline switch.", "Bulb sold separately."),
    ),
    "mugs": CategorySpec(
        nouns=("Mug", "Latte Mug", "Espresso Cup Set", "Tea Cup & Saucer", "Travel Mug", "Beaker"),
        materials=("Stoneware", "Porcelain", "Enamel", "Bone China", "Speckled Stoneware"),
        modifiers=COLOURS + PATTERNS,
        price=(6.0, 32.0),
        review_noun="mug",
        aspects=("glaze", "handle", "size", "weight"),
        details=(
            "Dishwasher and microwave safe.", "Holds a generous cup of tea.",
            "Glazed by hand, so no two are quite alike.",
        ),
    ),
    "tableware": CategorySpec(
        nouns=(
            "Dinner Plate", "Side Plate", "Pasta Bowl", "Serving Platter", "Salad Bowl", "Dinner Set",
            "Cereal Bowl",
        ),
        materials=("Stoneware", "Porcelain", "Bone China", "Melamine", "Terracotta"),
        modifiers=COLOURS,
        price=(8.0, 120.0),
        review_noun="plate",
        aspects=("glaze", "size", "weight", "colour"),
        details=("Dishwasher safe.", "Reactive glaze with a gentle speckle.", "Stacks neatly in a cupboard."),
    ),
    "glassware": CategorySpec(
        nouns=("Tumblers", "Wine Glasses", "Carafe", "Champagne Coupes", "Highball Glasses", "Water Jug"),
        materials=("Recycled Glass", "Crystal", "Ribbed Glass", "Hand Blown Glass", "Coloured Glass"),
        modifiers=COLOURS,
        price=(10.0, 85.0),
        review_noun="glass",
        aspects=("weight", "clarity", "shape"),
        details=("Sold as a set.", "Mouth blown, with the odd tiny bubble.", "Hand wash recommended."),
    ),
    "teapots": CategorySpec(
        nouns=("Teapot", "Cafetière", "Tea Caddy", "Milk Jug", "Pour Over Set", "Tea Infuser"),
        materials=("Stoneware", "Cast Iron", "Enamel", "Glass", "Porcelain", "Copper"),
        modifiers=COLOURS,
        price=(9.0, 95.0),
        review_noun="teapot",
        aspects=("pour", "lid", "size", "finish"),
        details=("Pours without a drip.", "Removable stainless steel infuser.", "Serves about four cups."),
    ),
    "kitchen textiles": CategorySpec(
        nouns=("Tea Towel", "Apron", "Oven Glove", "Napkin Set", "Tablecloth", "Table Runner"),
        materials=("Linen", "Cotton", "Waxed Cotton", "Organic Cotton", "Waffle Cotton"),
        modifiers=COLOURS + PATTERNS,
        price=(6.0, 60.0),
        review_noun="tea towel",
        aspects=("fabric", "print", "absorbency"),
        details=("Machine washable.", "Softens with every wash.", "Printed with water-based inks."),
    ),
    "bedding": CategorySpec(
        nouns=("Duvet Cover Set", "Pillowcase Pair", "Fitted Sheet", "Bedspread", "Quilt"),
        materials=("Washed Linen", "Cotton Percale", "Cotton Sateen", "Seersucker", "Organic Cotton"),
        modifiers=COLOURS + PATTERNS,
        price=(20.0, 190.0),
        review_noun="duvet cover",
        aspects=("fabric", "colour", "fit", "feel"),
        details=("Button fastening.", "Cool in summer and cosy in winter.", "Pre-washed for softness."),
    ),
    "towels": CategorySpec(
        nouns=("Bath Towel", "Hand Towel", "Bath Sheet", "Hammam Towel", "Face Cloth Set", "Towel Bale"),
        materials=("Cotton", "Organic Cotton", "Waffle Cotton", "Turkish Cotton", "Linen"),
        modifiers=COLOURS + PATTERNS,
        price=(6.0, 75.0),
        review_noun="towel",
        aspects=("softness", "absorbency", "colour", "size"),
        details=("Heavyweight and quick to dry.", "Gets softer with every wash.", "Woven with a hanging loop."),
    ),
    "bath & body": CategorySpec(
        nouns=("Hand Wash", "Body Lotion", "Bath Salts", "Soap Bar", "Gift Set", "Hand Cream", "Bath Oil"),
        materials=("Shea Butter", "Essential Oil", "Oat Milk", "Sea Mineral", "Olive Oil"),
        modifiers=SCENTS,
        price=(5.0, 45.0),
        review_noun="hand wash",
        aspects=("scent", "texture", "packaging"),
        details=("Vegan and cruelty free.", "Comes in a refillable glass bottle.", "Gentle enough for everyday use."),
    ),
    "planters": CategorySpec(
        nouns=("Planter", "Plant Pot", "Hanging Planter", "Window Box", "Plant Stand", "Terrarium"),
        materials=("Terracotta", "Concrete", "Glazed Ceramic", "Rattan", "Zinc", "Glass"),
        modifiers=COLOURS,
        price=(7.0, 95.0),
        review_noun="planter",
        aspects=("drainage", "glaze", "size"),
        details=("Drainage hole and a matching saucer.", "Suitable indoors and out.", "Frost resistant."),
    ),
    "garden": CategorySpec(
        nouns=(
            "Bird Feeder", "Trowel & Fork Set", "Watering Can", "Garden Kneeler", "Seed Tin",
            "Outdoor Lantern", "Herb Kit",
        ),
        materials=("Galvanised Steel", "Ash Wood", "Copper", "Enamel", "Recycled Plastic", "Waxed Canvas"),
        modifiers=COLOURS,
        price=(8.0, 80.0),
        review_noun="watering can",
        aspects=("finish", "size", "weight"),
        details=(
            "Built to last outdoors.", "Lovely for a balcony or a big garden.",
            "A thoughtful present for gardeners.",
        ),
    ),
    "scarves": CategorySpec(
        nouns=("Scarf", "Wrap", "Snood", "Silk Square", "Blanket Scarf"),
        materials=("Merino", "Lambswool", "Cashmere Blend", "Silk", "Modal", "Alpaca Blend"),
        modifiers=COLOURS + PATTERNS,
        price=(15.0, 120.0),
        review_noun="scarf",
        aspects=("softness", "colour", "length", "warmth"),
        details=("Long enough to wrap twice.", "Soft against the skin.", "Finished with fringed edges."),
    ),
    "hats": CategorySpec(
        nouns=("Beanie", "Bobble Hat", "Bucket Hat", "Beret", "Flat Cap", "Sun Hat"),
        materials=("Merino", "Lambswool", "Cotton", "Tweed", "Straw", "Recycled Wool"),
        modifiers=COLOURS + PATTERNS,
        price=(12.0, 60.0),
        review_noun="hat",
        aspects=("fit", "warmth", "colour"),
        details=("One size, with a little stretch.", "Cosy fleece lining.", "Folds flat for travel."),
    ),
    "gloves": CategorySpec(
        nouns=("Gloves", "Mittens", "Fingerless Gloves", "Touchscreen Gloves", "Gardening Gloves"),
        materials=("Leather", "Lambswool", "Merino", "Cashmere Blend", "Suede", "Waxed Cotton"),
        modifiers=COLOURS,
        price=(10.0, 70.0),
        review_noun="pair of gloves",
        aspects=("fit", "warmth", "stitching"),
        details=("Lined for cold mornings.", "Knitted in a rib cuff.", "Soft leather that moulds to the hand."),
    ),
    "bags": CategorySpec(
        nouns=("Tote Bag", "Crossbody Bag", "Weekend Bag", "Backpack", "Purse", "Shopper", "Washbag"),
        materials=("Leather", "Canvas", "Waxed Canvas", "Recycled Nylon", "Suede", "Woven Straw"),
        modifiers=COLOURS,
        price=(12.0, 220.0),
        review_noun="bag",
        aspects=("size", "strap", "leather", "zip"),
        details=("Inner zip pocket for keys.", "Adjustable strap.", "Fits a laptop and a lunch."),
    ),
    "jewellery": CategorySpec(
        nouns=("Necklace", "Earrings", "Bracelet", "Ring", "Hoop Earrings", "Pendant", "Charm Bracelet"),
        materials=(
            "Sterling Silver", "Gold Plated", "Rose Gold Plated", "Freshwater Pearl", "Enamel",
            "Recycled Silver",
        ),
        modifiers=(
            "Moon", "Star", "Leaf", "Daisy", "Wave", "Heart", "Bee", "Knot", "Shell", "Twist", "Birthstone",
            "Initial",
        ),
        price=(12.0, 160.0),
        review_noun="necklace",
        aspects=("finish", "chain", "clasp", "size"),
        details=("Arrives in a gift box.", "Nickel free.", "Delicate enough to wear every day."),
    ),
    "socks": CategorySpec(
        nouns=("Socks", "Sock Gift Box", "Bed Socks", "Walking Socks", "Ankle Socks"),
        materials=("Bamboo", "Merino", "Organic Cotton", "Cashmere Blend", "Wool Blend"),
        modifiers=COLOURS + PATTERNS,
        price=(5.0, 35.0),
        review_noun="pair of socks",
        aspects=("fit", "warmth", "colour"),
        details=("Cushioned sole.", "Comfortable cuff that stays up.", "Boxed, ready to give."),
    ),
    "slippers": CategorySpec(
        nouns=("Slippers", "Slipper Boots", "Mule Slippers", "Moccasin Slippers"),
        materials=("Sheepskin", "Faux Fur", "Felt", "Suede", "Knitted Wool"),
        modifiers=COLOURS,
        price=(15.0, 90.0),
        review_noun="pair of slippers",
        aspects=("fit", "sole", "warmth", "lining"),
        details=("Rubber sole for the garden step.", "Memory foam footbed.", "Fluffy lining."),
    ),
    "notebooks": CategorySpec(
        nouns=("Notebook", "Journal", "Planner", "Sketchbook", "Pen Set", "Desk Organiser", "Letter Writing Set"),
        materials=("Linen Bound", "Leather", "Recycled Paper", "Cloth Bound", "Brass"),
        modifiers=COLOURS + PATTERNS,
        price=(5.0, 48.0),
        review_noun="notebook",
        aspects=("paper", "binding", "cover"),
        details=("Thick paper that takes fountain pen.", "Lays flat when open.", "Ribbon marker and a back pocket."),
    ),
    "toys": CategorySpec(
        nouns=(
            "Soft Toy", "Wooden Train", "Stacking Rings", "Doll", "Rocking Horse", "Play Kitchen Set",
            "Activity Cube",
        ),
        materials=("Organic Cotton", "Beech Wood", "Knitted Cotton", "Felt", "Recycled Plastic"),
        modifiers=(
            "Bunny", "Bear", "Fox", "Elephant", "Owl", "Lion", "Whale", "Hedgehog", "Dinosaur", "Penguin",
            "Rainbow",
        ),
        price=(8.0, 110.0),
        review_noun="toy",
        aspects=("quality", "size", "safety", "finish"),
        details=("Safety tested for little ones.", "Made to be handed down.", "Surface washable."),
    ),
    "games & puzzles": CategorySpec(
        nouns=("Jigsaw Puzzle", "Board Game", "Card Game", "Wooden Puzzle", "Quiz Game", "Chess Set"),
        materials=("Wooden", "Recycled Card", "Illustrated", "Travel", "Family"),
        modifiers=(
            "Botanical", "Map", "Seaside", "Space", "Animal", "Vintage", "Garden", "Cityscape", "Library",
            "Ocean",
        ),
        price=(8.0, 65.0),
        review_noun="puzzle",
        aspects=("cut", "artwork", "box", "picture"),
        details=("Lovely for a rainy afternoon.", "Plastic free packaging.", "Beautifully illustrated box."),
    ),
}

# Catalog attributes (Product.material, Product.colour), derived from the words a product's name
# was built from so that the two never disagree (docs/STORE_FORMAT.md).
#
# A material word of CATEGORIES becomes the product's material lower-cased ("Speckled Stoneware"
# -> "speckled stoneware"), except these: techniques, ingredients and descriptors that are no
# material give "" (unknown), and a few are spelled as a catalog would.
MATERIAL_OF: dict[str, str] = {
    "Giclée": "", "Watercolour": "", "Linocut": "", "Screen Print": "", "Macramé": "cotton",
    "Chunky Knit": "", "Embroidered Cotton": "cotton", "Linen Bound": "linen", "Cloth Bound": "cloth",
    "Wooden": "wood", "Illustrated": "", "Travel": "", "Family": "", "Essential Oil": "", "Shea Butter": "",
    "Oat Milk": "", "Sea Mineral": "", "Olive Oil": "", "Gold Plated": "gold-plated",
    "Rose Gold Plated": "rose gold-plated",
}
# A colour modifier (COLOURS) becomes the product's colour lower-cased, except these.
COLOUR_OF: dict[str, str] = {"Sage": "sage green"}
# A material that sets the colour whatever else the name says.
COLOUR_OF_MATERIAL: dict[str, str] = {
    "Sterling Silver": "silver", "Recycled Silver": "silver", "Gold Plated": "gold", "Rose Gold Plated": "rose gold",
    "Freshwater Pearl": "ivory",
}
# Colours for categories whose modifiers are not colours (scents, motifs). A patterned item of a
# category that sells COLOURS takes one of COLOURS as its ground; a category in neither has no
# colour (bath & body, wall art, games & puzzles).
GROUND_COLOURS: dict[str, tuple[str, ...]] = {
    "candles": ("ivory", "cream", "white", "charcoal", "sage green", "terracotta", "blush"),
    "home fragrance": ("amber", "smoked grey", "white", "black", "cream"),
    "jewellery": ("navy", "coral", "teal", "blush", "ivory"),  # enamel; metals set their own (above)
    "toys": ("natural", "red", "blue", "yellow", "pink", "grey"),
}

# Taste segments: categories that one kind of customer tends to buy together. Every category is
# in at least one segment; some are shared, so segments overlap like real tastes do.
SEGMENTS: dict[str, tuple[str, ...]] = {
    "cosy evenings": ("candles", "home fragrance", "throws", "cushions", "slippers"),
    "kitchen table": ("mugs", "tableware", "glassware", "teapots", "kitchen textiles"),
    "bedroom and bath": ("bedding", "towels", "bath & body", "home fragrance"),
    "decorator": ("vases", "wall art", "photo frames", "clocks", "lamps", "rugs"),
    "gardener": ("planters", "garden", "gloves", "vases"),
    "winter wardrobe": ("scarves", "hats", "gloves", "socks"),
    "accessories": ("bags", "jewellery", "scarves"),
    "study and desk": ("notebooks", "photo frames", "clocks", "lamps"),
    "family play": ("toys", "games & puzzles", "notebooks", "socks"),
    "host and gifting": ("glassware", "candles", "tableware", "bath & body", "jewellery"),
}

COLLECTION_NAMES = (
    "Harbour", "Ember", "Fjord", "Willow", "Marlow", "Juniper", "Hazel", "Linden", "Aspen", "Cove",
    "Meadow", "Thistle", "Heather", "Bramble", "Cedar", "Rowan", "Alder", "Birch", "Maple", "Larch",
    "Fern", "Pebble", "Dune", "Tide", "Saltmarsh", "Orchard", "Hollow", "Glen", "Brook", "Ridge",
    "Haven", "Loft", "Atelier", "Nordic", "Riviera", "Provence", "Tuscan", "Kyoto", "Marrakech",
    "Oslo", "Bergen", "Cornish", "Highland", "Cotswold", "Bloomsbury", "Camden", "Somerset",
    "Dorset", "Whitby", "Alpine", "Solstice", "Equinox", "Aurora", "Nimbus", "Lumen", "Halo",
    "Sable", "Indigo", "Saffron", "Clover", "Poppy", "Wren", "Finch", "Kestrel", "Heron", "Otter",
    "Hare", "Lark", "Sparrow", "Magnolia", "Peony", "Dahlia", "Jasmine", "Lavender", "Rosemary",
    "Sorrel", "Yarrow", "Quarry", "Foundry", "Mill", "Granary", "Lantern", "Compass", "Atlas",
    "Meridian", "Harvest", "Hearth", "Nook", "Calder", "Tamsin", "Isla", "Skye", "Arran", "Mull",
    "Tarn", "Beck", "Fell", "Moor", "Weald", "Downs",
)

ADJECTIVES = (
    "handmade", "hand-finished", "soft", "classic", "modern", "rustic", "minimal", "vintage-inspired",
    "timeless", "cosy", "elegant", "bold", "relaxed", "everyday", "statement", "understated",
    "generous", "heirloom-quality", "playful", "natural",
)

# {a}/{A}: the article for the adjective that follows ("a"/"an"), for a singular noun (the finish);
# {a_adj}/{A_adj}: the adjective with the article the product's noun takes: "a bold mug", "an
# heirloom-quality throw", none before a plural ("bold gloves"; "A bold touchscreen gloves" was read
# on a demo card).
DESCRIPTION_TEMPLATES = (
    "{A_adj} {noun} in {material}, finished in {modifier}. {detail}",
    "From our {collection} collection: {a_adj} {material} {noun} in {modifier}. {detail}",
    "{Adj} {material} {noun} in {modifier}. {detail}",
    "Our {collection} {noun}, made from {material} with {a} {adj} {modifier} finish. {detail}",
    "{A_adj} {noun} to mix and match with the rest of the {collection} range. {detail}",
    "{detail} {A_adj} {material} {noun} in {modifier} from the {collection} range.",
)

# Reviews: an opener, a body sentence and sometimes a closer, by sentiment. {noun} is the
# category's review noun, {aspect} one of its aspects: a singular noun, since the bodies say "the {aspect} is"
# ("the pockets is spot on" was read in a demo quote).
# One body and one closer per mood carry personal data (a name, an email address, a web address),
# as real reviews sometimes do, so that the social-proof quote scrub (scripts/social_proof.py) has
# something to remove: each is one entry of its tuple, so a few percent of reviews. They replaced
# entries rather than being added, so the generator draws the same random numbers as before.
# No phone numbers: review texts have no digits (tests/unit/test_store_generate.py).
REVIEW_OPENERS = {
    "positive": (
        "Absolutely love this {noun}.", "Really pleased with my {noun}.", "Lovely {noun}, exactly as pictured.",
        "This {noun} is gorgeous.", "Best {noun} I have bought in years.", "Such a beautiful {noun}.",
        "Bought this {noun} as a present and kept it for myself.", "Could not be happier with this {noun}.",
        "What a find this {noun} is.", "Top marks for this {noun}.",
        "My second {noun} from this shop and just as good.",
        "Stunning {noun}.",
    ),
    "mixed": (
        "A nice enough {noun}.", "This {noun} is fine, but not amazing.", "Mixed feelings about this {noun}.",
        "Decent {noun} overall.", "A good {noun}, with a couple of small niggles.",
        "A pretty {noun}, though not perfect.",
        "This {noun} does the job.", "An okay {noun} for the price.",
    ),
    "negative": (
        "Disappointed with this {noun}.", "This {noun} is not what I expected at all.",
        "Sadly this {noun} is going back.",
        "I really wanted to like this {noun}.", "Would not buy this {noun} again.",
        "A poor quality {noun} for the money.", "A very underwhelming {noun}.", "This {noun} did not last.",
    ),
}
REVIEW_BODIES = {
    "positive": (
        "The {aspect} is even better in person.", "Great quality and the {aspect} is spot on.",
        "Arrived quickly and beautifully wrapped.", "I have already ordered another one for my sister Emma.",
        "It feels far more expensive than it was.", "Everyone who visits asks where it is from.",
        "The {aspect} is just right.", "It looks perfect in our living room.",
        "Well made, and the {aspect} is lovely.", "Exactly the colour I was hoping for.",
        "Packaged with care and no plastic.", "It has become a daily favourite.",
    ),
    "mixed": (
        "The {aspect} is nice but it is smaller than I thought.", "The {aspect} could be better.",
        "Delivery took longer than expected.", "The colour is a little different from the photo.",
        "Good value, though the {aspect} feels a bit thin.", "I like it, but I am not sure I love it.",
        "The {aspect} is good; the finish less so.",
    ),
    "negative": (
        "The {aspect} looked nothing like the photos.", "It arrived damaged and the replacement took ages.",
        "The {aspect} was poor from day one.", "It feels cheap and flimsy.",
        "The {aspect} faded after a couple of weeks.", "Customer service was helpful, but the product is not.",
        "It was much smaller than described.", "The {aspect} is uneven and badly finished.",
    ),
}
REVIEW_CLOSERS = {
    "positive": ("Highly recommend.", "Will be back for more.", "Thank you!", "A perfect gift.", "Any questions, email me at emma.clarke@example.com.", ""),
    "mixed": ("Might try something else next time.", "Fine for the price.", "Photos on my blog at www.oatandember.co.uk/reviews.", ""),
    "negative": ("I have asked Daniel in customer service for a refund.", "Not recommended.", "Such a shame.", ""),
}

# First and last names by locale (a mix of common names; ASCII-folded for email addresses).
FIRST_NAMES = {
    "en_GB": (
        "Olivia", "Amelia", "Isla", "Ava", "Mia", "Freya", "Lily", "Grace", "Sophie", "Ella",
        "Poppy", "Evie", "Harriet", "Imogen", "Niamh", "Oliver", "George", "Harry", "Noah", "Jack",
        "Leo", "Arthur", "Oscar", "Charlie", "Alfie", "Freddie", "Rhys", "Callum", "Ewan", "Aisha",
        "Priya", "Zara", "Hamza", "Ravi",
    ),
    "en_US": (
        "Emma", "Charlotte", "Amelia", "Sophia", "Mia", "Harper", "Evelyn", "Abigail", "Madison",
        "Chloe", "Avery", "Liam", "Noah", "James", "Elijah", "Lucas", "Mason", "Ethan", "Logan",
        "Jackson", "Carter", "Mateo", "Sofia", "Camila", "Jayden", "Aaliyah", "Maya", "Tyler", "Kai",
    ),
    "de_DE": (
        "Mia", "Emilia", "Hannah", "Lena", "Lea", "Marie", "Sophie", "Clara", "Johanna", "Jana",
        "Jürgen", "Lukas", "Jonas", "Felix", "Maximilian", "Paul", "Elias", "Moritz", "Tobias",
        "Anna-Lena", "Jörg", "Björn", "Sören", "Käthe", "Ömer", "Leonie",
    ),
    "fr_FR": (
        "Léa", "Chloé", "Manon", "Camille", "Inès", "Louise", "Jade", "Zoé", "Émilie", "Juliette",
        "Gabriel", "Louis", "Raphaël", "Hugo", "Arthur", "Jules", "Théo", "Lucas", "Noé", "Mathis",
        "Céline", "Hélène", "François", "Anaïs", "Joël",
    ),
    "es_ES": (
        "Lucía", "Sofía", "Martina", "María", "Paula", "Valeria", "Hugo", "Martín", "Pablo",
        "Álvaro", "Alejandro", "Daniel", "Inés", "Nerea", "Iñigo", "Begoña",
    ),
    "it_IT": (
        "Giulia", "Sofia", "Aurora", "Alice", "Ginevra", "Chiara", "Leonardo", "Francesco",
        "Lorenzo", "Alessandro", "Matteo", "Niccolò", "Gabriele", "Federica",
    ),
    "nl_NL": (
        "Emma", "Julia", "Tess", "Sophie", "Zoë", "Fenna", "Daan", "Sem", "Lucas", "Levi", "Bram",
        "Thijs", "Sanne", "Joris", "Maartje",
    ),
    # given names in characters; ROMANIZED gives the pinyin an email address is made of
    "zh_CN": ("芳", "娜", "敏", "静", "磊", "洋", "杰", "涛", "明", "超", "秀英", "晓燕", "志强", "丽华", "子涵", "雨桐", "浩然", "欣怡"),
}
LAST_NAMES = {
    "en_GB": (
        "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Davies", "Evans", "Thomas",
        "Roberts", "Walker", "Wright", "Robinson", "Thompson", "Hughes", "Clarke", "Patel",
        "Khan", "Bennett", "Morgan", "Campbell", "MacDonald", "O'Neill", "Fletcher",
    ),
    "en_US": (
        "Johnson", "Miller", "Davis", "Garcia", "Rodriguez", "Martinez", "Anderson", "Jackson",
        "Lee", "Harris", "Clark", "Lewis", "Young", "Allen", "King", "Nguyen", "Hill", "Flores",
        "Green", "Baker", "Nelson", "Carter", "Kim",
    ),
    "de_DE": (
        "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
        "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
        "Braun", "Zimmermann", "Krüger", "Hartmann", "Yılmaz",
    ),
    "fr_FR": (
        "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
        "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garnier", "Faure", "Rousseau",
        "Mercier", "Blanc", "Benoît",
    ),
    "es_ES": (
        "García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez",
        "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Muñoz",
    ),
    "it_IT": (
        "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
        "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Costa",
    ),
    "nl_NL": (
        "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser",
        "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos",
    ),
    "zh_CN": ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"),
}
# Names written in a script that does not fold to ASCII, as an email address spells them (pinyin).
ROMANIZED = {
    "芳": "fang", "娜": "na", "敏": "min", "静": "jing", "磊": "lei", "洋": "yang", "杰": "jie", "涛": "tao", "明": "ming",
    "超": "chao", "秀英": "xiuying", "晓燕": "xiaoyan", "志强": "zhiqiang", "丽华": "lihua", "子涵": "zihan", "雨桐": "yutong",
    "浩然": "haoran", "欣怡": "xinyi", "王": "wang", "李": "li", "张": "zhang", "刘": "liu", "陈": "chen", "杨": "yang",
    "黄": "huang", "赵": "zhao", "吴": "wu", "周": "zhou",
}

# Locale shares of the customer base and the IANA zones that go with each (with weights).
LOCALES = (
    ("en_GB", 0.47), ("en_US", 0.20), ("de_DE", 0.10), ("fr_FR", 0.09), ("es_ES", 0.04), ("it_IT", 0.04),
    ("nl_NL", 0.03), ("zh_CN", 0.03),
)
TIMEZONES = {
    "en_GB": (("Europe/London", 1.0),),
    "en_US": (
        ("America/New_York", 0.40), ("America/Chicago", 0.25), ("America/Denver", 0.10),
        ("America/Los_Angeles", 0.25),
    ),
    "de_DE": (("Europe/Berlin", 1.0),),
    "fr_FR": (("Europe/Paris", 1.0),),
    "es_ES": (("Europe/Madrid", 0.9), ("Atlantic/Canary", 0.1)),
    "it_IT": (("Europe/Rome", 1.0),),
    "nl_NL": (("Europe/Amsterdam", 1.0),),
    "zh_CN": (("Asia/Shanghai", 1.0),),
}

# Standard-time UTC offsets (hours) of the zones above, for local shopping hours.
UTC_OFFSETS = {
    "Europe/London": 0, "Atlantic/Canary": 0, "Europe/Berlin": 1, "Europe/Paris": 1, "Europe/Madrid": 1,
    "Europe/Rome": 1, "Europe/Amsterdam": 1, "America/New_York": -5, "America/Chicago": -6,
    "America/Denver": -7, "America/Los_Angeles": -8, "Asia/Shanghai": 8,
}
