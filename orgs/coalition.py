"""The coalition as reported in 2017 (see shared/DOMAIN.md), as seed data.

Names, senate districts, the hotline number and the partners are public
facts; capacities, languages beyond the obvious and the community group's and
law firm's names are illustrative.
"""

SERVICE_TYPES = [
    ("legal-consultation", "One-on-one legal consultation",
     "A first confidential meeting with an attorney or accredited representative."),
    ("visa", "Visa applications", "Help with family, work and student visa applications."),
    ("green-card", "Green cards", "Lawful permanent residence: applications and renewals."),
    ("removal-defense", "Deportation / removal defense",
     "Representation in removal proceedings before immigration court."),
    ("detained-defense", "Detained-client defense",
     "Universal representation for detained New Yorkers (NYIFUP)."),
    ("asylum", "Asylum", "Affirmative and defensive asylum applications."),
    ("stay-of-removal", "Stay of deportation",
     "Applications to stay a removal order, including emergency stays."),
    ("ice-checkin-accompaniment", "ICE check-in accompaniment",
     "Community members or counsel accompany a client to an ICE check-in or hearing."),
    ("executive-order-questions", "Executive-order questions",
     "Advice on executive orders such as the 2017 travel ban."),
    ("naturalization", "Citizenship / naturalization", "Help applying for U.S. citizenship."),
    ("u-t-visa-vawa", "U/T visas and VAWA",
     "Relief for survivors of crime, trafficking and domestic violence."),
    ("know-your-rights", "Know Your Rights",
     "Workshops and information sheets on rights when stopped by ICE."),
    ("hotline-intake", "Hotline intake", "Emergency intake through the coalition hotline."),
]

LANGUAGES = [
    ("en", "English"), ("es", "Spanish"), ("zh", "Chinese"), ("bn", "Bengali"),
    ("hi", "Hindi"), ("ur", "Urdu"), ("pa", "Punjabi"), ("ne", "Nepali"),
    ("ar", "Arabic"), ("ht", "Haitian Creole"), ("ga", "Irish"), ("ru", "Russian"),
    ("ko", "Korean"), ("fr", "French"), ("pl", "Polish"),
]

# Senator, area, senate district (2017).
SENATORS = [
    ("Jeffrey D. Klein", "klein", "Bronx / Westchester", 34),
    ("David Valesky", "valesky", "Syracuse", 53),
    ("Jose Peralta", "peralta", "Queens (East Elmhurst, Jackson Heights)", 13),
    ("Marisol Alcantara", "alcantara", "Manhattan", 31),
    ("Tony Avella", "avella", "Queens", 11),
    ("David Carlucci", "carlucci", "Rockland / Westchester", 38),
    ("Jesse Hamilton", "hamilton", "Brooklyn", 20),
    ("Diane Savino", "savino", "Staten Island / Brooklyn", 23),
]

ALL_IDC_DISTRICTS = [district for *_, district in SENATORS]
NYC_DISTRICTS = [13, 31, 11, 20, 23, 34]

# Borough (in New York City) or region (outside it) of each senate district,
# on the 2012-2022 map the coalition worked in; reports roll districts up to
# these (district -> region -> coalition) where districts are too small to show.
# Districts spanning two areas sit in the one holding most of their people.
REGIONS = [
    ("long-island", "Long Island", range(1, 10)),
    ("queens", "Queens", range(10, 17)),
    ("brooklyn", "Brooklyn", [*range(17, 23), 25, 26]),
    ("staten-island", "Staten Island", [23, 24]),
    ("manhattan", "Manhattan", range(27, 32)),
    ("bronx", "Bronx", range(32, 35)),
    ("hudson-valley", "Westchester and Hudson Valley", range(35, 43)),
    ("capital-region", "Capital Region", range(43, 47)),
    ("north-country", "North Country and Mohawk Valley", range(47, 50)),
    ("central-new-york", "Central New York", [50, 53]),
    ("southern-tier", "Southern Tier", [51, 52, 58]),
    ("finger-lakes", "Finger Lakes and Rochester", range(54, 57)),
    ("western-new-york", "Western New York", [57, *range(59, 64)]),
]
REGION_OF = {number: code for code, _, numbers in REGIONS for number in numbers}
REGION_NAMES = {code: name for code, name, _ in REGIONS}

_DISTRICT_OFFICE_SERVICES = ["know-your-rights", "executive-order-questions"]


def _district_offices() -> list[dict]:
    offices = []
    for senator, key, area, district in SENATORS:
        offices.append({
            "slug": f"sd{district}-{key}-office",
            "name": f"Senator {senator} District Office (SD {district})",
            "kind": "district_office",
            "districts": [district],
            "languages": ["en", "es"],
            "services": _DISTRICT_OFFICE_SERVICES,
            "accepting_referrals": False,
            "address_city": area,
        })
    return offices


ORGANIZATIONS: list[dict] = _district_offices() + [
    {
        "slug": "idc", "name": "Independent Democratic Conference (IDC)", "kind": "caucus",
        "districts": ALL_IDC_DISTRICTS, "languages": ["en"],
        "services": [], "accepting_referrals": False, "address_city": "Albany",
    },
    {
        "slug": "idc-hotline", "name": "Immigrant Defense Coalition Hotline", "kind": "hotline",
        "districts": ALL_IDC_DISTRICTS, "languages": ["en", "es", "zh", "bn"],
        "services": ["hotline-intake", "executive-order-questions"],
        "accepting_referrals": True, "phone": "1-800-213-6385",
    },
    {
        "slug": "nyic", "name": "New York Immigration Coalition (NYIC)",
        "kind": "legal_nonprofit", "districts": NYC_DISTRICTS,
        "languages": ["en", "es", "zh", "ko", "ar"],
        "services": ["know-your-rights", "executive-order-questions", "legal-consultation"],
        "accepting_referrals": True, "capacity": (40, 120), "address_city": "New York",
    },
    {
        "slug": "vera-nyifup",
        "name": "Vera Institute of Justice: New York Immigrant Family Unity Project (NYIFUP)",
        "kind": "legal_nonprofit", "districts": NYC_DISTRICTS + [38],
        "languages": ["en", "es", "fr", "ht"],
        "services": ["detained-defense", "removal-defense", "stay-of-removal"],
        "accepting_referrals": True, "capacity": (15, 60), "address_city": "New York",
    },
    {
        "slug": "black-institute", "name": "The Black Institute", "kind": "community_group",
        "districts": [20, 34], "languages": ["en", "fr", "ht"],
        "services": ["know-your-rights"], "accepting_referrals": True,
        "address_city": "New York",
    },
    {
        "slug": "camba-legal", "name": "CAMBA Legal Services", "kind": "legal_nonprofit",
        "districts": [20, 23, 11], "languages": ["en", "es", "ht", "ru", "zh"],
        "services": ["visa", "green-card", "removal-defense", "asylum", "naturalization",
                     "legal-consultation"],
        "accepting_referrals": True, "capacity": (25, 80), "address_city": "Brooklyn",
    },
    {
        "slug": "cala", "name": "Central American Legal Assistance (CALA)",
        "kind": "legal_nonprofit", "districts": [20, 13, 34], "languages": ["en", "es"],
        "services": ["removal-defense", "asylum", "stay-of-removal", "legal-consultation"],
        "accepting_referrals": True, "capacity": (8, 30), "address_city": "Brooklyn",
    },
    {
        "slug": "chhaya-cdc", "name": "Chhaya Community Development Corporation (Chhaya CDC)",
        "kind": "legal_nonprofit", "districts": [13, 11],
        "languages": ["en", "bn", "hi", "ur", "pa", "ne"],
        "services": ["know-your-rights", "naturalization", "legal-consultation"],
        "accepting_referrals": True, "capacity": (12, 40), "address_city": "Queens",
    },
    {
        "slug": "iana", "name": "Integration and Advancement of New Americans (IANA)",
        "kind": "legal_nonprofit", "districts": [13, 11], "languages": ["en", "es", "ar"],
        "services": ["visa", "green-card", "naturalization"],
        "accepting_referrals": True, "capacity": (10, 35), "address_city": "Queens",
    },
    {
        "slug": "emerald-isle", "name": "Emerald Isle Immigration Center",
        "kind": "legal_nonprofit", "districts": [34, 11, 13], "languages": ["en", "ga", "pl"],
        "services": ["visa", "green-card", "naturalization", "know-your-rights"],
        "accepting_referrals": True, "capacity": (10, 25), "address_city": "Bronx",
    },
    {
        "slug": "her-justice", "name": "Her Justice", "kind": "legal_nonprofit",
        "districts": NYC_DISTRICTS, "languages": ["en", "es", "zh"],
        "services": ["u-t-visa-vawa", "legal-consultation"],
        "accepting_referrals": True, "capacity": (6, 20), "address_city": "New York",
    },
    {
        "slug": "cuny-citizenship-now", "name": "CUNY Citizenship Now!",
        "kind": "legal_nonprofit", "districts": NYC_DISTRICTS,
        "languages": ["en", "es", "zh", "bn", "ru", "ko", "fr"],
        "services": ["naturalization", "green-card"],
        "accepting_referrals": True, "capacity": (50, 200), "address_city": "New York",
    },
    {
        "slug": "jackson-heights-defense",
        "name": "Jackson Heights Immigrant Defense Committee", "kind": "community_group",
        "districts": [13], "languages": ["en", "es", "bn", "ne"],
        "services": ["ice-checkin-accompaniment", "know-your-rights"],
        "accepting_referrals": True, "capacity": (20, 20), "address_city": "Queens",
    },
    {
        "slug": "manhattan-immigration-firm", "name": "Manhattan Immigration Law Firm",
        "kind": "law_firm", "districts": [31], "languages": ["en", "es"],
        "services": ["legal-consultation", "visa", "green-card", "removal-defense"],
        "accepting_referrals": True, "capacity": (5, 10), "address_city": "Manhattan",
    },
    {
        "slug": "nyc-council", "name": "New York City Council", "kind": "funder",
        "districts": [], "languages": ["en"], "services": [],
        "accepting_referrals": False, "address_city": "New York",
    },
    {
        "slug": "empire-immigrant-fund", "name": "Empire Immigrant Families Fund",
        "kind": "funder", "districts": [], "languages": ["en"], "services": [],
        "accepting_referrals": False, "address_city": "New York",
    },
]
