"""The sentences the emulator's long answers are built from ({topic}, {name}... are filled in)."""

from __future__ import annotations

HAIKU: tuple[tuple[str, str, str], ...] = (
    ("{Topic} at first light", "a slow breath of morning air —", "the world wakes softly"),
    ("Quiet {topic} hums", "leaves drift across the still pond", "autumn holds its breath"),
    ("Beneath the pale moon", "{topic} dreams of distant shores —", "waves hush the long night"),
    ("Rain on {topic}", "small bright drops on the window", "the café falls still"),
)

NAMES = ("Mira", "Tomás", "Zoë", "Elias", "Amélie", "Kenji", "Noor", "José")
PLACES = (
    "a small harbour town",
    "a village at the edge of the forest",
    "a city of narrow streets and old cafés",
    "a lighthouse on a windy cape",
    "a quiet mountain valley",
)

STORY_OPEN = (
    "Once upon a time, in {place}, there lived {name}, who had always been curious about {topic}.",
    "Every morning {name} walked past the old market, wondering what {topic} might really mean.",
    "Most people thought little of it, but {name} could not let the idea go.",
)
STORY_MIDDLE = (
    "One day, a stranger arrived with a worn leather notebook full of notes about {topic}.",
    "{Name} read it by candlelight, page after page, until the words began to feel like a map.",
    "The first attempt failed — the wind scattered the pages across the square.",
    "{Name} tried again, slower this time, asking the oldest neighbours what they remembered.",
    "Some laughed; others leaned closer and shared stories they had never told anyone.",
    "Little by little, a pattern emerged, and {topic} no longer seemed like a distant dream.",
    "There were setbacks, of course: a storm, a broken promise, a long and doubtful winter.",
    "Through it all, {name} kept a small lantern burning in the window.",
    "A friend named {friend} joined the search, bringing patience where {name} had only hurry.",
    "Together they crossed the hills, following every rumour of {topic} they could find.",
    "At night they talked about what they would do if they ever truly understood it.",
    "The journey taught {name} that courage is mostly the habit of taking one more step.",
    "In a café by the river, an old woman smiled and said she had been waiting for them.",
    "She explained that {topic} was never meant to be found by one person alone.",
    "{Name} wrote everything down, careful not to lose a single detail.",
    "Days became weeks, and the town began to notice that something had changed.",
)
STORY_CLOSE = (
    "In the end, {name} returned home with more questions than answers — and was glad of it.",
    "The notebook sat on the shelf by the window, its last page still blank, waiting.",
    'And whenever someone asked about {topic}, {name} would smile and say: "Let me tell you."',
)

ESSAY_OPEN = (
    "{Topic} is one of those subjects that seems simple at first glance but rewards a closer look.",
    "People have argued about {topic} for generations, and the debate is far from settled.",
    "This essay considers where {topic} comes from, why it matters, and what it might become.",
)
ESSAY_TRANSITIONS = (
    "First,",
    "Second,",
    "Moreover,",
    "Beyond that,",
    "It is also worth noting that",
    "Equally important,",
    "At the same time,",
    "Finally,",
)
ESSAY_BODY = (
    "The history of {topic} shows how ideas change as the people who hold them change.",
    "Practical experience with {topic} tends to be messier than the theory suggests.",
    "Critics point out real costs, and any honest account has to weigh them.",
    "Supporters argue that the benefits outweigh those costs, at least over the long run.",
    "Consider how {topic} looks to someone encountering it for the first time.",
    "The details matter here: small choices compound into large differences over time.",
    "Evidence from many fields points in a similar direction, even if the picture is incomplete.",
    "It would be a mistake to treat {topic} as a single thing; it is a family of questions.",
    "History offers useful parallels — not exact ones, but close enough to teach us something.",
    "Trade-offs are unavoidable, and pretending otherwise only postpones hard decisions.",
    "The most thoughtful accounts of {topic} hold two ideas at once: its promise and its limits.",
    "Seen this way, {topic} becomes less a problem to solve than a practice to refine.",
    "Institutions, habits and incentives all shape how {topic} plays out in practice.",
    "Even small improvements matter when they are repeated across millions of people.",
    "The clearest lesson is that context — who, where and when — changes almost everything.",
    "None of this is settled, and that is part of what makes the subject worth studying.",
)
ESSAY_CLOSE = (
    "In conclusion, {topic} deserves neither blind enthusiasm nor easy dismissal.",
    "The question is not whether it matters, but how we choose to engage with it.",
    "Approached with curiosity and care, it can teach us a great deal about ourselves.",
)

POEM_STANZAS = (
    (
        "I went looking for {topic} at the turning of the year,",
        "and found it in the quiet places no one thinks to hear;",
        "the kettle's patient whisper, the lamp above the door,",
        "the footsteps of a stranger on a well-worn wooden floor.",
    ),
    (
        "Some say that {topic} is a river, some say it is a stone,",
        "some say it is a song you cannot learn alone —",
        "but I have seen it gather like the light on morning tea,",
        "and settle in the hollows of the things we cannot see.",
    ),
    (
        "The years will fold their letters and the tide will take the sand,",
        "and still there will be {topic}, like a warm and open hand;",
        "it asks for nothing grand from us, no banner and no vow,",
        "just someone paying attention in the here and in the now.",
    ),
    (
        "So here's to {topic}, to its shadows and its gleam,",
        "to every half-remembered and every waking dream;",
        "may it find you in the evening when the café lights are low,",
        "and walk with you a little way, wherever you may go.",
    ),
)

HOW_TO_STEPS = (
    "**Get clear on the goal.** Decide what a good result looks like before you {task}.",
    "**Gather what you need.** Collect the tools, materials or information involved.",
    "**Start small.** Try a simple version first, so mistakes are cheap.",
    "**Check and adjust.** Compare the result with your goal and change one thing at a time.",
    "**Repeat.** Each attempt teaches you something — most people get good at it by practising.",
)

LIST_ITEMS = (
    ("Start with the basics", "the core ideas and vocabulary of {topic} make the rest easier."),
    ("Know why it matters", "{topic} is easier to care about once you see the payoff."),
    ("Watch for misconceptions", "a few popular beliefs about {topic} do not survive scrutiny."),
    ("Take a small first step", "something concrete you can do today beats a perfect plan."),
    ("Use good resources", "books, courses and communities around {topic} save a lot of time."),
    ("Avoid the common pitfalls", "most early mistakes with {topic} come from rushing."),
    ("Learn from examples", "real cases show where {topic} works and where it does not."),
    ("Weigh the trade-offs", "every choice about {topic} gives something up."),
    ("Go deeper", "the open questions are where {topic} gets interesting."),
    ("Keep practising", "steady, regular effort beats occasional bursts."),
)
