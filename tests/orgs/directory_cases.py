"""Directory filters with the organisations the seeded coalition (orgs/coalition.py)
must return, shared by the REST and GraphQL tests so both APIs filter alike.

Each case: an id, REST query parameters, GraphQL arguments, expected slugs.
"""

FUNDERS = {"empire-immigrant-fund", "nyc-council"}
DISTRICT_OFFICES = {
    "sd11-avella-office", "sd13-peralta-office", "sd20-hamilton-office", "sd23-savino-office",
    "sd31-alcantara-office", "sd34-klein-office", "sd38-carlucci-office", "sd53-valesky-office",
}
NOT_ACCEPTING = DISTRICT_OFFICES | FUNDERS | {"idc"}
ALL_SLUGS = NOT_ACCEPTING | {
    "idc-hotline", "nyic", "vera-nyifup", "black-institute", "camba-legal", "cala",
    "chhaya-cdc", "iana", "emerald-isle", "her-justice", "cuny-citizenship-now",
    "jackson-heights-defense", "manhattan-immigration-firm",
}

FILTER_CASES = [
    ("kind", {"kind": "funder"}, 'kind: ["funder"]', FUNDERS),
    ("kind-repeated", {"kind": ["funder", "caucus"]}, 'kind: ["funder", "caucus"]',
     FUNDERS | {"idc"}),
    ("kind-community", {"kind": "community_group"}, 'kind: ["community_group"]',
     {"black-institute", "jackson-heights-defense"}),
    ("district-53", {"district": "53"}, "district: 53",
     {"sd53-valesky-office", "idc", "idc-hotline"}),
    ("district-13", {"district": "13"}, "district: 13", {
        "sd13-peralta-office", "idc", "idc-hotline", "nyic", "vera-nyifup", "cala",
        "chhaya-cdc", "iana", "emerald-isle", "her-justice", "cuny-citizenship-now",
        "jackson-heights-defense",
    }),
    ("district-none", {"district": "1"}, "district: 1", set()),
    ("language", {"language": "bn"}, 'language: "bn"',
     {"idc-hotline", "chhaya-cdc", "cuny-citizenship-now", "jackson-heights-defense"}),
    ("service-type", {"service_type": "stay-of-removal"}, 'serviceType: "stay-of-removal"',
     {"vera-nyifup", "cala"}),
    ("accepting-false", {"accepting_referrals": "false"}, "acceptingReferrals: false",
     NOT_ACCEPTING),
    ("accepting-true", {"accepting_referrals": "true"}, "acceptingReferrals: true",
     ALL_SLUGS - NOT_ACCEPTING),
    ("active-true", {"active": "true"}, "active: true", ALL_SLUGS),
    ("active-false", {"active": "false"}, "active: false", set()),
    ("search-name", {"search": "citizenship"}, 'search: "citizenship"',
     {"cuny-citizenship-now"}),
    ("search-case-insensitive", {"search": "IMMIGR"}, 'search: "IMMIGR"', {
        "nyic", "vera-nyifup", "emerald-isle", "jackson-heights-defense",
        "manhattan-immigration-firm", "empire-immigrant-fund", "idc-hotline",
    }),
    ("search-slug", {"search": "sd2"}, 'search: "sd2"',
     {"sd20-hamilton-office", "sd23-savino-office"}),
    ("combined", {"district": "13", "language": "bn", "service_type": "naturalization"},
     'district: 13, language: "bn", serviceType: "naturalization"',
     {"chhaya-cdc", "cuny-citizenship-now"}),
    ("combined-kind", {"kind": "legal_nonprofit", "district": "20", "language": "es"},
     'kind: ["legal_nonprofit"], district: 20, language: "es"',
     {"nyic", "vera-nyifup", "camba-legal", "cala", "her-justice", "cuny-citizenship-now"}),
]

# (REST ordering, GraphQL ordering, kinds to filter to, expected slugs in order)
ORDERING_CASES = [
    ("name", "name", ["funder"], ["empire-immigrant-fund", "nyc-council"]),
    ("-name", "-name", ["funder"], ["nyc-council", "empire-immigrant-fund"]),
    ("kind,-slug", "kind,-slug", ["funder", "caucus"],
     ["idc", "nyc-council", "empire-immigrant-fund"]),
    ("-kind,slug", "-kind,slug", ["funder", "caucus"],
     ["empire-immigrant-fund", "nyc-council", "idc"]),
]
