"""Word lists used by the offline extractor (small, hand-curated, English)."""

from __future__ import annotations

import re

UPPER = "[" + "".join(chr(c) for c in range(0x41, 0x2B0) if chr(c).isupper()) + "]"
"""A regex class of the uppercase Latin letters, accents included ("Ł", "Ø", "É")."""
NAME_JOINERS = r"(?:of|de|del|la|le|van|von|der|da|di|du|the|and)"
"""Lowercase words inside a name ("Pan de Luz", "Bank of America")."""

# fmt: off

MODALS = {
    "'d", "'ll", "'m", "'ve", "also", "can", "can't", "could", "couldn't", "did", "didn't",
    "gonna", "gotta", "had", "hadn't", "may", "might", "must", "shall", "should", "shouldn't",
    "used", "wanna", "was", "wasn't", "were", "weren't", "will", "won't", "would", "wouldn't",
}

IRREGULAR_PAST = {
    "ate", "became", "began", "bought", "broke", "brought", "built", "came", "caught", "chose",
    "cut", "dealt", "did", "drank", "drew", "drove", "fed", "fell", "felt", "flew", "forgot",
    "fought", "found", "gave", "got", "grew", "had", "heard", "held", "hit", "hung", "hurt",
    "kept", "knew", "led", "left", "let", "lit", "lost", "made", "meant", "met", "paid", "put",
    "quit", "ran", "read", "rode", "said", "sang", "sat", "saw", "sent", "set", "shut", "slept",
    "sold", "spent", "spoke", "stood", "swam", "taught", "thought", "threw", "told", "took",
    "understood", "was", "went", "were", "woke", "won", "wore", "wrote", "tore", "swore",
    "froze", "stole", "shook", "forgave", "bit", "hid", "sought", "blew", "fled", "bled", "slid",
    "spun", "lent", "bent", "burnt", "knelt", "leapt", "sank", "rang", "shrank", "sprang",
    "cost", "spread", "split", "overslept", "undertook",
}

FAMILY = {
    "aunt", "baby", "best friend", "boss", "boyfriend", "brother", "colleague", "cousin",
    "coworker", "dad", "daughter", "father", "fiance", "fiancee", "fiancé", "fiancée", "friend",
    "girlfriend",
    "grandfather", "grandma", "grandmother", "grandpa", "husband", "kid", "mom", "mother",
    "neighbor", "neighbour", "nephew", "niece", "partner", "roommate", "sister", "son",
    "stepdad", "stepmom", "twin", "uncle", "wife",
}

PETS = {
    "bird", "bunny", "cat", "dog", "ferret", "fish", "guinea pig", "hamster", "horse", "kitten",
    "lizard", "parrot", "pony", "pup", "puppy", "rabbit", "snake", "turtle", "greyhound",
    "beagle", "labrador", "retriever", "poodle", "terrier", "spaniel", "collie", "dachshund",
    "husky", "mongrel", "mutt", "tortoise", "gecko", "budgie", "canary", "chinchilla", "rat",
    "mouse", "goldfish", "jack russell", "shih tzu", "pug", "corgi", "chihuahua", "schnauzer",
    "rottweiler", "bulldog", "shepherd", "whippet", "lurcher", "tabby", "cockatiel",
    "bearded dragon",
    "collie cross", "rescue dog", "rescue cat",
}
ROMANTIC = {"boyfriend", "girlfriend", "partner", "wife", "husband", "fiance", "fiancee",
            "fiancé", "fiancée", "spouse"}  # fmt: skip

JOB_WORDS = {
    "accountant", "actor", "actress", "administrator", "adviser", "advisor", "analyst",
    "architect", "artist", "assistant", "athlete", "author", "baker", "barista", "blogger",
    "carpenter", "cashier", "chef", "clerk", "coach", "consultant", "cook", "counsellor",
    "counselor", "dad", "dancer", "dentist", "designer", "developer", "director", "doctor",
    "driver", "editor", "electrician", "engineer", "entrepreneur", "farmer", "firefighter",
    "founder", "freelancer", "homemaker", "influencer", "intern", "journalist", "lawyer",
    "dispatcher", "planner", "cellist", "associate", "principal", "receptionist",
    "librarian", "manager", "mechanic", "mentor", "mom", "musician", "nurse", "officer",
    "painter", "paramedic", "parent", "pharmacist", "photographer", "pilot", "player",
    "plumber", "poet", "producer", "professor", "programmer", "researcher", "retiree",
    "scientist", "secretary", "singer", "social worker", "soldier", "specialist", "streamer",
    "student", "surgeon", "teacher", "technician", "therapist", "trainer", "tutor", "vet",
    "veteran", "veterinarian", "volunteer", "waiter", "waitress", "worker", "writer",
    "youtuber", "supervisor", "physiotherapist", "physician", "nanny", "cleaner", "guard",
    "lecturer", "instructor", "operator", "inspector", "controller", "coordinator", "agent",
    "representative", "broker", "banker", "translator", "interpreter", "carer", "caregiver",
    "midwife", "optician", "courier", "butcher", "tailor", "hairdresser", "barber", "builder",
    "welder", "fisherman", "postman", "salesman", "saleswoman", "clinician", "pediatrician",
    "paediatrician", "mathematician", "statistician", "historian", "politician", "comedian",
    "technologist", "economist", "psychologist", "psychiatrist", "dietitian", "nutritionist",
    "optometrist", "radiologist", "biologist", "chemist", "physicist", "geologist",
    "archaeologist", "anthropologist", "sociologist", "linguist", "novelist", "cartoonist",
    "illustrator", "animator", "curator", "conductor", "composer", "violinist",
    "pianist", "guitarist", "drummer", "lead", "head", "partner", "owner", "ceo", "cto", "cfo",
    "president", "executive", "steward", "stewardess", "attendant", "captain",
}
NOT_JOBS = {
    "vegetarian", "vegan", "pescatarian", "christian", "tourist", "optimist", "pessimist",
    "perfectionist", "minimalist", "realist", "idealist", "introvert", "extrovert", "italian",
    "canadian", "australian", "brazilian", "indian", "egyptian", "russian", "norwegian",
    "asian", "european", "american", "romanian", "hungarian", "colombian", "peruvian",
}
"""Words that look like job titles ("-ian", "-ist") but say something else."""

ORG_SUFFIXES = {
    "Academy", "Agency", "Association", "Bank", "Center", "Centre", "Church", "Clinic", "Club",
    "Co", "Co.", "College", "Company", "Corp", "Corp.", "Corporation", "Council", "Department",
    "Foundation", "Group", "Hospital", "Inc", "Inc.", "Institute", "LLC", "Lab", "Labs",
    "Library", "Ltd", "Museum", "Network", "Organisation", "Organization", "School", "Society",
    "Solutions", "Studio", "Studios", "Systems", "Team", "Technologies", "University",
    "Philharmonic", "Orchestra", "Band", "FC", "Arkitekter", "Architects", "Partners",
    "Hotel", "Bakery", "Restaurant", "Airlines", "Motors", "Records", "Theatre", "Theater",
}

PLACES = {
    "Africa", "Alabama", "Alaska", "America", "Amsterdam", "Argentina", "Arizona", "Arkansas",
    "Asia", "Athens", "Atlanta", "Austin", "Australia", "Austria", "Bangkok", "Barcelona",
    "Beijing", "Belgium", "Berlin", "Bogota", "Boston", "Brazil", "Brussels", "Budapest",
    "Buenos Aires", "Cairo", "California", "Canada", "Carolina", "Chicago", "Chile", "China",
    "Colombia", "Colorado", "Connecticut", "Copenhagen", "Cuba", "Czech Republic", "Dallas",
    "Delaware", "Delhi", "Denmark", "Denver", "Detroit", "Dubai", "Dublin", "Edinburgh",
    "Egypt", "England", "Europe", "Finland", "Florence", "Florida", "France", "Geneva",
    "Georgia", "Germany", "Greece", "Hawaii", "Helsinki", "Hong Kong", "Houston", "Hungary",
    "Iceland", "Idaho", "Illinois", "India", "Indiana", "Indonesia", "Iowa", "Ireland",
    "Israel", "Istanbul", "Italy", "Jamaica", "Japan", "Kansas", "Kentucky", "Kenya", "Korea",
    "Kyoto", "LA", "Las Vegas", "Lima", "Lisbon", "London", "Los Angeles", "Louisiana",
    "Madrid", "Maine", "Malaysia", "Maryland", "Massachusetts", "Melbourne", "Mexico",
    "Mexico City", "Miami", "Michigan", "Milan", "Minnesota", "Mississippi", "Missouri",
    "Montana", "Montreal", "Morocco", "Moscow", "Mumbai", "NYC", "Nashville", "Nebraska",
    "Netherlands", "Nevada", "New Jersey", "New Mexico", "New York", "New Zealand", "Nigeria",
    "North Carolina", "Norway", "Ohio", "Oklahoma", "Oregon", "Osaka", "Oslo", "Pakistan",
    "Paris", "Pennsylvania", "Peru", "Philadelphia", "Philippines", "Phoenix", "Poland",
    "Portland", "Porto", "Portugal", "Prague", "Quito", "Rio", "Romania", "Rome", "Russia",
    "San Diego", "San Francisco", "Scotland", "Seattle", "Seoul", "Shanghai", "Singapore",
    "South Africa", "South Carolina", "South Korea", "Spain", "Stockholm", "Sweden",
    "Switzerland", "Sydney", "Tennessee", "Texas", "Thailand", "Tokyo", "Toronto", "Turkey",
    "UK", "US", "USA", "Ukraine", "United States", "Utah", "Vancouver", "Venice", "Vermont",
    "Vienna", "Vietnam", "Virginia", "Wales", "Warsaw", "Washington", "Wisconsin", "Wyoming",
    "Zurich",
}

# Capitalized words that are not names on their own (sentence starts, days, months...).
STOP_CAPITALIZED = {
    "A", "Absolutely", "Actually", "After", "Agreed", "All", "Also", "Although", "An", "And",
    "Any", "Anyone", "Anything", "Anyway", "April", "Are", "As", "At", "August", "Awesome",
    "Because", "Been", "Before", "Being", "Both", "Btw", "But", "By", "Bye", "Can", "Check",
    "Cheers", "Christmas", "Congrats", "Congratulations", "Cool", "Could", "Dad", "December",
    "Definitely", "Did", "Do", "Does", "Dr", "Each", "Easter", "Even", "Every", "Everyone",
    "Everything", "Exactly", "February", "For", "Friday", "From", "Glad", "Go", "God", "Gonna",
    "Good", "Good luck", "Got", "Great", "Haha", "Halloween", "Happy", "Have", "He", "Hello",
    "Her", "Here", "Hey", "Hi", "His", "Honestly", "Hope", "How", "I", "I'd", "I'll", "I'm",
    "I've", "If", "In", "Is", "It", "It's", "Its", "January", "July", "June", "Just", "Keep",
    "Let", "Let's", "Lol", "Look", "Love", "Luckily", "Make", "March", "May", "Maybe", "Mom",
    "Monday", "Mr", "Mrs", "Ms", "My", "Nice", "No", "Nope", "Not", "Nothing", "November",
    "Now", "OK", "October", "Of", "Oh", "Ok", "Okay", "Omg", "On", "Once", "Or", "Our",
    "Please", "Plus", "Really", "Right", "Same", "Saturday", "See", "See you", "September",
    "She", "Should", "Since", "So", "Some", "Someone", "Something", "Sorry", "Sounds",
    "Speaking", "Still", "Sunday", "Sure", "Take", "Talking", "Thank", "Thankfully", "Thanks",
    "Thanksgiving", "That", "That's", "The", "Their", "Then", "There", "These", "They",
    "They're", "This", "Those", "Though", "Thursday", "To", "Today", "Tomorrow", "Totally",
    "True", "Tuesday", "Unfortunately", "Until", "Was", "We", "We're", "Wednesday", "Well",
    "Were", "What", "When", "Where", "Which", "While", "Who", "Why", "Will", "Wish", "With",
    "Would", "Wow", "Yeah", "Yep", "Yes", "Yesterday", "You", "You're", "Your",
}
COMPANIES = {
    "Google", "Apple", "Microsoft", "Amazon", "Meta", "Facebook", "Netflix", "Tesla", "IBM",
    "Intel", "Starbucks", "Walmart", "Target", "Nike", "Spotify", "Uber", "Airbnb", "Twitter",
    "OpenAI", "Adobe", "Oracle", "Samsung", "Sony", "Disney", "Costco", "Ikea", "IKEA",
}
# fmt: on

_JUNK = re.compile(
    r"^(?:(?:hi|hey|hello|yo|hiya|howdy|sup|ok|okay|k|kk|sure|yes|yeah|yep|yup|no|nope|nah|"
    r"thanks|thank you|thx|ty|cool|nice|great|awesome|lol|lmao|haha+|hehe|hmm+|wow|oh|ah|"
    r"right|true|exactly|agreed|indeed|got it|gotcha|noted|alright|fine|good|perfect|"
    r"bye|goodbye|see you|see ya|cheers|congrats|congratulations|omg|same|me too|"
    r"good morning|good night|good evening|good afternoon|welcome|you're welcome|no problem|"
    r"np|sounds good|will do|for sure|of course|definitely|absolutely|totally|"
    r"nice to meet you|good to see you|great to see you|long time no see|how are you|"
    r"how's it going|what's up|i'm good|i'm fine|not much|me too|you too|"
    r"that's great|that's awesome|that's cool|that's nice|that's amazing|love it|"
    r"sounds great|so true)"
    r"(?:[\s,]+(?:[a-z]+)){0,2}[\s!.,?:;)(*~-]*)+$",
    re.IGNORECASE,
)
_EMOJI_ONLY = re.compile(r"^[\W_\s]*$", re.UNICODE)


def is_junk(text: str) -> bool:
    """Greetings, fillers, acknowledgements and emoji-only messages."""
    stripped = text.strip()
    if not stripped or _EMOJI_ONLY.match(stripped):
        return True
    if len(stripped) > 80:
        return False
    return bool(_JUNK.match(stripped))
