"""The fictional company behind the demo warehouse: regions, products, names and weights.

Plain data, loaded by `reportgen.warehouse.demo` into DuckDB lookup tables.
"""

from __future__ import annotations

# (region, share of orders at the start, yearly growth)
REGIONS = (("EMEA", 0.40, 0.19), ("Americas", 0.40, 0.21), ("APAC", 0.20, 0.30))

# Weighted choices, drawn through 1000-bucket lookup tables (see _PICK_TABLE).
# fmt: off
COUNTRY_WEIGHTS: dict[str, dict[str, int]] = {
    "EMEA": {"Germany": 22, "United Kingdom": 20, "France": 16, "Italy": 9, "Spain": 8,
             "Netherlands": 8, "Sweden": 6, "UAE": 6, "South Africa": 5},
    "Americas": {"United States": 68, "Canada": 12, "Brazil": 10, "Mexico": 7, "Argentina": 3},
    "APAC": {"Japan": 25, "Australia": 22, "India": 18, "Singapore": 12, "South Korea": 12,
             "China": 11},
}
SEGMENT_WEIGHTS = {"Enterprise": 8, "Mid-Market": 20, "SMB": 37, "Consumer": 35}
# Big accounts buy through people (and get bigger discounts), consumers online or in shops.
CHANNEL_WEIGHTS: dict[str, dict[str, int]] = {
    "Enterprise": {"Online": 10, "Retail": 5, "Partner": 35, "Direct Sales": 50},
    "Mid-Market": {"Online": 30, "Retail": 10, "Partner": 35, "Direct Sales": 25},
    "SMB": {"Online": 50, "Retail": 25, "Partner": 20, "Direct Sales": 5},
    "Consumer": {"Online": 60, "Retail": 40},
}
TICKET_CHANNEL_WEIGHTS = {"Email": 35, "Chat": 30, "Phone": 20, "Portal": 15}
TICKET_CATEGORY_WEIGHTS = {"Billing": 24, "Bug": 26, "How-to": 25, "Account": 18, "Outage": 7}
# fmt: on

# (product_id, product, category, list_price, unit_cost, launched months before end_date,
#  popularity weight, predecessor sold instead before launch)
PRODUCTS: tuple[tuple[int, str, str, float, float, int, int, int | None], ...] = (
    (1, "Nimbus Laptop 14", "Hardware", 1299.00, 842.00, 60, 30, None),
    (2, "Nimbus Laptop 16", "Hardware", 1699.00, 1101.00, 52, 18, None),
    (3, "Stratus Desktop Tower", "Hardware", 999.00, 655.00, 70, 14, None),
    (4, "Stratus Workstation Pro", "Hardware", 2899.00, 1912.00, 48, 6, None),
    (5, "Halcyon Monitor 27", "Hardware", 349.00, 214.00, 55, 26, None),
    (6, "Halcyon Monitor 32 Curved", "Hardware", 529.00, 331.00, 44, 12, None),
    (7, "Quarry NAS 4-Bay", "Hardware", 749.00, 468.00, 66, 7, None),
    (8, "Tessel Tablet 11", "Hardware", 599.00, 377.00, 41, 16, None),
    (9, "Corvid Rack Server 1U", "Hardware", 3999.00, 2710.00, 58, 3, None),
    (10, "Nimbus Laptop 14 Gen 2", "Hardware", 1349.00, 861.00, 14, 24, 1),
    (11, "Ledgerly Accounting Suite", "Software", 399.00, 48.00, 80, 20, None),
    (12, "Ledgerly Payroll Add-on", "Software", 149.00, 17.00, 62, 14, None),
    (13, "Forge IDE Professional", "Software", 499.00, 55.00, 57, 12, None),
    (14, "Forge IDE Team", "Software", 899.00, 96.00, 47, 7, None),
    (15, "Sentinel Endpoint Security", "Software", 89.00, 9.00, 75, 34, None),
    (16, "Sentinel Backup Vault", "Software", 129.00, 16.00, 50, 18, None),
    (17, "Canvas Design Studio", "Software", 299.00, 31.00, 65, 11, None),
    (18, "Atlas GIS Desktop", "Software", 1199.00, 140.00, 72, 4, None),
    (19, "Quill Office Basics", "Software", 79.00, 8.00, 90, 30, None),
    (20, "Atlas GIS Desktop 2", "Software", 1299.00, 151.00, 8, 4, 18),
    (21, "Onboarding Workshop", "Services", 1500.00, 780.00, 84, 5, None),
    (22, "Data Migration Package", "Services", 4800.00, 2650.00, 60, 2, None),
    (23, "Premium Support Hours", "Services", 180.00, 96.00, 84, 16, None),
    (24, "Solution Architecture Review", "Services", 3200.00, 1700.00, 54, 2, None),
    (25, "On-site Installation", "Services", 950.00, 560.00, 78, 6, None),
    (26, "Staff Training Seat", "Services", 450.00, 210.00, 69, 9, None),
    (27, "Security Audit", "Services", 6500.00, 3900.00, 45, 1, None),
    (28, "Managed Backup Setup", "Services", 1200.00, 640.00, 51, 4, None),
    (29, "Custom Integration Sprint", "Services", 9500.00, 6100.00, 40, 1, None),
    (30, "Cloud Readiness Assessment", "Services", 2400.00, 1260.00, 22, 3, 24),
    (31, "Ember USB-C Dock", "Accessories", 189.00, 98.00, 46, 28, None),
    (32, "Ember Travel Charger", "Accessories", 65.00, 29.00, 63, 40, None),
    (33, "Glide Wireless Mouse", "Accessories", 39.00, 15.00, 88, 55, None),
    (34, "Glide Mechanical Keyboard", "Accessories", 119.00, 52.00, 59, 26, None),
    (35, "Halo Noise-Cancelling Headset", "Accessories", 159.00, 74.00, 49, 30, None),
    (36, "Halo Conference Speaker", "Accessories", 229.00, 118.00, 43, 10, None),
    (37, "Tessel Tablet Sleeve", "Accessories", 35.00, 11.00, 41, 22, None),
    (38, "Tessel Stylus", "Accessories", 49.00, 19.00, 41, 18, None),
    (39, "Quarry 4TB Drive", "Accessories", 139.00, 88.00, 53, 15, None),
    (40, "Ember Smart Power Strip", "Accessories", 55.00, 24.00, 30, 14, 32),
    (41, "Cloudlet Storage 1TB", "Subscriptions", 99.00, 31.00, 74, 36, None),
    (42, "Cloudlet Storage Business", "Subscriptions", 299.00, 88.00, 61, 16, None),
    (43, "Sentinel Threat Intel Feed", "Subscriptions", 1900.00, 520.00, 46, 3, None),
    (44, "Forge CI Minutes Pack", "Subscriptions", 240.00, 92.00, 39, 12, None),
    (45, "Ledgerly Cloud", "Subscriptions", 360.00, 70.00, 56, 17, None),
    (46, "Canvas Cloud Team", "Subscriptions", 600.00, 126.00, 42, 8, None),
    (47, "Atlas Data Feed", "Subscriptions", 2400.00, 610.00, 67, 2, None),
    (48, "Halo Meetings Pro", "Subscriptions", 180.00, 41.00, 52, 20, None),
    (49, "Quill Office Online", "Subscriptions", 96.00, 22.00, 64, 32, None),
    (50, "Insight Analytics Cloud", "Subscriptions", 1500.00, 390.00, 28, 5, 47),
)

FIRST_NAMES = (
    "Amelia", "Noah", "Sofia", "Liam", "Hannah", "Mateo", "Aiko", "Ravi", "Chloé", "Lukas",
    "Isabela", "Kenji", "Priya", "Oliver", "Freya", "Diego", "Mei", "Tariq", "Elena", "Jonas",
    "Zanele", "Marco", "Ingrid", "Samuel", "Leila", "Hiroshi", "Ana", "Felix", "Nadia", "Omar",
    "Clara", "Arjun", "Beatriz", "Emil", "Yuna", "Thabo", "Camille", "Lars", "Valentina", "Minjun",
    "Grace", "Rafael", "Astrid", "Kwame", "Lucía", "Theo", "Anika", "Pablo", "Sienna", "Daniel",
)  # fmt: skip
LAST_NAMES = (
    "Whitfield", "Okafor", "Lindqvist", "Moreau", "Castellano", "Nakamura", "Brennan", "Haddad",
    "Kowalczyk", "Fairbanks", "Rossetti", "Tanaka", "Delacroix", "Varga", "Ashworth", "Mendoza",
    "Sørensen", "Iyer", "Hollis", "Quintero", "Van Buren", "Dlamini", "Achterberg", "Petrov",
    "Fontaine", "Yamamoto", "Carraway", "Nørgaard", "Oyelaran", "Beaumont", "Salazar", "Kim",
    "Lindgren", "Abernathy", "Marchetti", "Sato", "Eriksen", "Calloway", "Novak", "Pemberton",
    "Rahman", "Ferreira", "Stavros", "O'Donnell", "Halvorsen", "Takeda", "Morrow", "Castillo",
)  # fmt: skip
AREA_CODES = ("202", "212", "303", "312", "416", "415", "514", "604", "617", "713")
