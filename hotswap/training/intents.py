"""The default dataset: sentences for the mood/food intent classifier, composed from templates.

The shipped `data/intents.csv` is exactly what `python -m hotswap.training.intents` prints
(a unit test holds them equal), so the data can be read, reviewed and regenerated.
"""

from __future__ import annotations

import csv
import io
import itertools
import random
import sys

SEED = 20261128
PER_INTENT = 64

# intent -> (openers, middles, endings), each "|"-separated; a sentence joins one of each.
TEMPLATES: dict[str, tuple[str, str, str]] = {
    "food_order": (
        (
            "I'd like to order|can I get|please order me|I want to order|could you get me|"
            "let's order|I'll have|get me|can you place an order for|put in an order for"
        ),
        (
            "a large pepperoni pizza|two cheeseburgers|a chicken burrito|some pad thai|"
            "a bowl of ramen|a veggie wrap|sushi for two|a margherita pizza|"
            "butter chicken with garlic naan|fish and chips|a caesar salad|three tacos"
        ),
        (
            "| please| for delivery| to my place| for pickup at seven| tonight|"
            " as soon as possible| and a cold drink"
        ),
    ),
    "food_recipe": (
        (
            "how do I make|what's a good recipe for|give me a recipe for|how do you cook|"
            "what do I need to make|teach me to make|show me how to bake|"
            "what are the steps for making|is there an easy way to make|"
            "how long does it take to cook"
        ),
        (
            "lasagna|banana bread|homemade pizza dough|chicken curry|fluffy pancakes|"
            "a chocolate cake|vegetable soup|fried rice|guacamole|mushroom risotto|"
            "sourdough bread|beef stew"
        ),
        (
            "| at home| from scratch| without an oven| for a beginner| in under thirty minutes|"
            " for a family of four"
        ),
    ),
    "mood_happy": (
        (
            "I'm so|I feel|honestly I'm|today I'm feeling|I am|right now I feel|"
            "I've never been this|wow, I'm"
        ),
        (
            "happy|excited|thrilled|great|cheerful|on top of the world|grateful|delighted|"
            "over the moon|full of joy"
        ),
        (
            "| because I passed my exam| since the sun is finally out| after a great workout|"
            " because my friends surprised me| now that the weekend is here|"
            " because I got the job| about my vacation"
        ),
    ),
    "mood_sad": (
        (
            "I'm so|I feel|honestly I'm|today I'm feeling|I am|lately I've been|"
            "I can't help feeling|I keep feeling"
        ),
        "sad|down|lonely|heartbroken|miserable|blue|really low|empty inside|gloomy|hopeless",
        (
            "| because I miss my family| after the breakup| because nobody called me|"
            " since my best friend moved away| because it has rained all week|"
            " and I don't know why| and I just want to cry"
        ),
    ),
    "mood_stressed": (
        (
            "I'm so|I feel|honestly I'm|today I'm feeling|I am|lately I've been|I'm getting|"
            "I'm completely"
        ),
        (
            "stressed|overwhelmed|anxious|burned out|under so much pressure|on edge|swamped|"
            "frazzled|tense|worried sick"
        ),
        (
            "| with all these deadlines| about my exams| because work never stops|"
            " about paying the rent| before my presentation tomorrow| and I can't sleep|"
            " with too much on my plate"
        ),
    ),
    "smalltalk": (
        "hi,|hello,|hey there,|good morning,|good evening,|hey,|so,|ok,|quick question,",
        (
            "how are you|what's your name|what can you do|tell me a joke|are you a robot|"
            "who built you|how's your day going|what's up|nice to meet you|"
            "do you have any hobbies|thanks for your help|what languages do you speak"
        ),
        "",
    ),
}
# Sentences written by hand, less regular than the templates: intent -> "|"-separated.
HANDWRITTEN: dict[str, str] = {
    "food_order": (
        "I'm starving, just get me whatever pizza is fastest|"
        "order the usual from the thai place|"
        "we need dinner for six people delivered by eight|"
        "can we get noodles from that place downtown|add a side of fries to my order|"
        "I'm too tired to cook, order something for me|"
        "book me a table and order two pastas|"
        "send a pepperoni and a hawaiian to the office|"
        "I'd love some dumplings delivered right now|"
        "can you reorder what I had last friday|get the kids some chicken nuggets|"
        "one latte and a croissant to go, please"
    ),
    "food_recipe": (
        "what can I cook with eggs, spinach and cheese|how many minutes do I boil an egg|"
        "what temperature should the oven be for roast chicken|"
        "can I swap butter for oil in muffins|how do I keep my pasta from sticking|"
        "what spices go into a good curry|why does my bread come out so dense|"
        "how do I make pizza at home like a restaurant|"
        "is it safe to cook frozen chicken without thawing|"
        "what's the trick to crispy roast potatoes|"
        "how much rice do I need per cup of water|walk me through making a simple omelette"
    ),
    "mood_happy": (
        "this is the best day I've had in months|"
        "we just got engaged and I can't stop smiling|everything is going my way today|"
        "I finally finished the marathon and I feel fantastic|"
        "my sister had a baby, I'm an aunt|I love my new apartment so much|"
        "work was great and the sun is shining|I aced the interview|life is good right now|"
        "I laughed all evening with my friends|I'm in such a good mood I could dance|"
        "my team won the championship"
    ),
    "mood_sad": (
        "I miss my grandmother so much|nobody showed up to my birthday|"
        "I cried myself to sleep last night|my cat passed away this morning|"
        "I feel like nobody really cares about me|it's hard to get out of bed these days|"
        "I lost my job and I feel worthless|everything reminds me of her|"
        "I spent the holidays alone again|I don't enjoy anything anymore|"
        "my best friend stopped talking to me|the house feels so quiet since the kids left"
    ),
    "mood_stressed": (
        "I have three deadlines tomorrow and nothing is done|"
        "my boss keeps piling work on me|my heart is racing and I can't calm down|"
        "exams start monday and I haven't studied|I can't keep up with all these emails|"
        "the bills keep coming and I can't pay them|"
        "I haven't slept properly in a week because of work|"
        "there is too much to do and not enough time|"
        "I'm freaking out about the presentation|the move, the new job, it's all too much|"
        "I feel like I'm drowning in tasks|my chest gets tight every time my phone buzzes"
    ),
    "smalltalk": (
        "what's your favourite color|do you like music|how old are you|"
        "good night, talk tomorrow|can we just chat for a bit|what did you do today|"
        "you're pretty funny|where are you from|do you ever sleep|thank you, that's all|"
        "tell me something interesting|have a nice weekend"
    ),
}
ENDINGS = {"food_order": ".!", "food_recipe": "?", "smalltalk": "?!."}


def compose_rows(seed: int = SEED, per_intent: int = PER_INTENT) -> list[tuple[str, str]]:
    """`per_intent` template sentences per intent plus the handwritten ones, shuffled by `seed`."""
    rng = random.Random(seed)
    rows = [(text, intent) for intent in TEMPLATES for text in _sentences(intent, rng, per_intent)]
    rng.shuffle(rows)
    return rows


def _sentences(intent: str, rng: random.Random, count: int) -> list[str]:
    combos = sorted(itertools.product(*(part.split("|") for part in TEMPLATES[intent])))
    chosen = [f"{a} {b}{c}" for a, b, c in rng.sample(combos, count)]
    return [_polish(text, intent, rng) for text in chosen + HANDWRITTEN[intent].split("|")]


def _polish(text: str, intent: str, rng: random.Random) -> str:
    """Vary case and final punctuation the way people type."""
    if rng.random() < 0.6:
        text = text[0].upper() + text[1:]
    endings = [*list(ENDINGS.get(intent, ".!")), ""]
    return text + endings[rng.randrange(len(endings))]


def render_csv(rows: list[tuple[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["text", "label"])
    writer.writerows(rows)
    return out.getvalue()


if __name__ == "__main__":
    sys.stdout.write(render_csv(compose_rows()))
