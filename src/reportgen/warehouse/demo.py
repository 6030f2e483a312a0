"""The demo warehouse: a deterministic, realistic DuckDB file to explore reportgen without data.

Every value is computed inside DuckDB from the seed and the row number (``hash`` of both, never
``random()``), so the same ``(rows, seed, end_date)`` always yields the same tables, whatever the
thread count, and five million orders take seconds. The file is built next to its target and moved
into place with ``os.replace``: readers see the old warehouse or the new one, never half of one.

Shapes a demo needs: yearly growth, a Q4 peak and a summer dip, quiet weekends, a region mix of
about 40/40/20, channel-dependent discounts, a handful of very large orders, and one bad month
(EMEA, eighteen months before ``end_date``) whose target was set as if the month had gone well.
Personal data is fictional: invented names, ``example.com``/``example.org`` e-mail addresses and
telephone numbers only from ranges reserved for fiction (NANP 555-01xx, Ofcom 020 7946 0xxx).
"""

from __future__ import annotations

import secrets
import shutil
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

DEMO_SEED = 42
GENERATOR_VERSION = 1
MIN_ROWS = 1_000
TABLES = ("orders", "customers", "products", "support_tickets", "targets", "demo_meta")
_SEED_RANGE = range(-(2**31), 2**31)  # the seed is stored as a DuckDB INTEGER
_END_DATE_RANGE = (date(1900, 1, 1), date(9998, 12, 31))
_BAD_MONTH_BEFORE_END = 18  # months; the bad month always lies inside the three-year window
_BAD_MONTH_REGION = "EMEA"
_BAD_MONTH_FACTOR = 0.55
_BIG_ORDER_PRODUCT = 9  # the rack server: a data-centre deal dwarfs every other order


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`seed_demo_warehouse` generated, for the CLI to print."""

    path: Path
    rows: int
    seed: int
    end_date: date
    table_rows: dict[str, int]
    seconds: float


# (region, share of orders at the start, yearly growth)
_REGIONS = (("EMEA", 0.40, 0.19), ("Americas", 0.40, 0.21), ("APAC", 0.20, 0.30))

# Weighted choices, drawn through 1000-bucket lookup tables (see _PICK_TABLE).
# fmt: off
_COUNTRY_WEIGHTS: dict[str, dict[str, int]] = {
    "EMEA": {"Germany": 22, "United Kingdom": 20, "France": 16, "Italy": 9, "Spain": 8,
             "Netherlands": 8, "Sweden": 6, "UAE": 6, "South Africa": 5},
    "Americas": {"United States": 68, "Canada": 12, "Brazil": 10, "Mexico": 7, "Argentina": 3},
    "APAC": {"Japan": 25, "Australia": 22, "India": 18, "Singapore": 12, "South Korea": 12,
             "China": 11},
}
_SEGMENT_WEIGHTS = {"Enterprise": 8, "Mid-Market": 20, "SMB": 37, "Consumer": 35}
# Big accounts buy through people (and get bigger discounts), consumers online or in shops.
_CHANNEL_WEIGHTS: dict[str, dict[str, int]] = {
    "Enterprise": {"Online": 10, "Retail": 5, "Partner": 35, "Direct Sales": 50},
    "Mid-Market": {"Online": 30, "Retail": 10, "Partner": 35, "Direct Sales": 25},
    "SMB": {"Online": 50, "Retail": 25, "Partner": 20, "Direct Sales": 5},
    "Consumer": {"Online": 60, "Retail": 40},
}
_TICKET_CHANNEL_WEIGHTS = {"Email": 35, "Chat": 30, "Phone": 20, "Portal": 15}
_TICKET_CATEGORY_WEIGHTS = {"Billing": 24, "Bug": 26, "How-to": 25, "Account": 18, "Outage": 7}
# fmt: on

# (product_id, product, category, list_price, unit_cost, launched months before end_date,
#  popularity weight, predecessor sold instead before launch)
_PRODUCTS: tuple[tuple[int, str, str, float, float, int, int, int | None], ...] = (
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

_FIRST_NAMES = (
    "Amelia", "Noah", "Sofia", "Liam", "Hannah", "Mateo", "Aiko", "Ravi", "Chloé", "Lukas",
    "Isabela", "Kenji", "Priya", "Oliver", "Freya", "Diego", "Mei", "Tariq", "Elena", "Jonas",
    "Zanele", "Marco", "Ingrid", "Samuel", "Leila", "Hiroshi", "Ana", "Felix", "Nadia", "Omar",
    "Clara", "Arjun", "Beatriz", "Emil", "Yuna", "Thabo", "Camille", "Lars", "Valentina", "Minjun",
    "Grace", "Rafael", "Astrid", "Kwame", "Lucía", "Theo", "Anika", "Pablo", "Sienna", "Daniel",
)  # fmt: skip
_LAST_NAMES = (
    "Whitfield", "Okafor", "Lindqvist", "Moreau", "Castellano", "Nakamura", "Brennan", "Haddad",
    "Kowalczyk", "Fairbanks", "Rossetti", "Tanaka", "Delacroix", "Varga", "Ashworth", "Mendoza",
    "Sørensen", "Iyer", "Hollis", "Quintero", "Van Buren", "Dlamini", "Achterberg", "Petrov",
    "Fontaine", "Yamamoto", "Carraway", "Nørgaard", "Oyelaran", "Beaumont", "Salazar", "Kim",
    "Lindgren", "Abernathy", "Marchetti", "Sato", "Eriksen", "Calloway", "Novak", "Pemberton",
    "Rahman", "Ferreira", "Stavros", "O'Donnell", "Halvorsen", "Takeda", "Morrow", "Castillo",
)  # fmt: skip
_AREA_CODES = ("202", "212", "303", "312", "416", "415", "514", "604", "617", "713")

# Uniform in [0, 1) from a key and a stream number: 53 high bits of DuckDB's hash. Each use
# below takes its own stream so that no two attributes share a random draw.
_MACROS = """
CREATE TEMP MACRO demo_uniform(k, stream) AS
    (hash(k, stream, getvariable('demo_seed')) >> 11)::DOUBLE / 9007199254740992.0;
CREATE TEMP MACRO demo_normal(k, stream) AS
    sqrt(-2 * ln(1 - demo_uniform(k, stream)))
    * cos(2 * pi() * demo_uniform(k, stream + 1000));
"""

_LOOKUPS = """
CREATE TEMP TABLE demo_regions (region VARCHAR, region_no INTEGER, share DOUBLE, growth DOUBLE);
CREATE TEMP TABLE demo_choices (
    dimension VARCHAR, grp VARCHAR, item VARCHAR, item_no INTEGER, weight INTEGER);
CREATE TEMP TABLE demo_products (
    product_id INTEGER, product VARCHAR, category VARCHAR, list_price DECIMAL(10, 2),
    unit_cost DECIMAL(10, 2), launched_months INTEGER, popularity INTEGER, predecessor INTEGER);
"""

# Bucket b of 1000 in a (dimension, group) holds the item whose cumulative weight covers it, so a
# weighted draw is an equality join on floor(u * 1000).
_PICK_TABLE = """
CREATE TEMP TABLE demo_pick AS
WITH cumulative AS (
    SELECT dimension, grp, item,
        sum(weight) OVER (PARTITION BY dimension, grp ORDER BY item_no) - weight AS below,
        sum(weight) OVER (PARTITION BY dimension, grp ORDER BY item_no) AS upto,
        sum(weight) OVER (PARTITION BY dimension, grp) AS total
    FROM (
        SELECT dimension, grp, item, item_no, weight FROM demo_choices
        UNION ALL
        SELECT 'product', '', product_id::VARCHAR, product_id, popularity FROM demo_products
    )
)
SELECT c.dimension, c.grp, b.bucket::INTEGER AS bucket, c.item
FROM cumulative AS c
JOIN range(1000) AS b(bucket)
    ON b.bucket >= c.below * 1000 // c.total AND b.bucket < c.upto * 1000 // c.total;
"""

_PRODUCTS_TABLE = """
CREATE TABLE products AS
SELECT product_id, product, category, list_price, unit_cost,
    (date_trunc('month', getvariable('demo_end')) - to_months(launched_months)
        + to_days((product_id * 7) % 28))::DATE AS launched_on
FROM demo_products
ORDER BY product_id;
"""

_CUSTOMER_BASE = """
CREATE TEMP TABLE demo_customers AS
WITH drawn AS (
    SELECT
        i + 1 AS customer_id,
        ['EMEA', 'EMEA', 'Americas', 'Americas', 'APAC'][(i % 5) + 1] AS region,
        floor(demo_uniform(i, 30) * 1000)::INTEGER AS country_bucket,
        floor(demo_uniform(i, 31) * 1000)::INTEGER AS segment_bucket,
        getvariable('demo_first_names')[
            1 + floor(demo_uniform(i, 32) * len(getvariable('demo_first_names')))::INTEGER
        ] AS first_name,
        getvariable('demo_last_names')[
            1 + floor(demo_uniform(i, 33) * len(getvariable('demo_last_names')))::INTEGER
        ] AS last_name,
        (hash(i, 34, getvariable('demo_seed')) >> 1)::BIGINT AS phone_draw
    FROM range(getvariable('demo_customers')) AS t(i)
)
SELECT
    d.customer_id,
    d.first_name || ' ' || d.last_name AS name,
    regexp_replace(lower(strip_accents(d.first_name)), '[^a-z]', '', 'g') || '.'
        || regexp_replace(lower(strip_accents(d.last_name)), '[^a-z]', '', 'g')
        || d.customer_id::VARCHAR
        || ['@example.com', '@example.org'][1 + (d.phone_draw >> 40) % 2] AS email,
    CASE
        WHEN c.item = 'United Kingdom'
            THEN '+44 20 7946 0' || lpad((d.phone_draw % 1000)::VARCHAR, 3, '0')
        ELSE '+1-' || getvariable('demo_area_codes')[1 + (d.phone_draw >> 20) % 10]
            || '-555-01' || lpad((d.phone_draw % 100)::VARCHAR, 2, '0')
    END AS phone,
    c.item AS country,
    d.region,
    s.item AS segment,
    -- Enterprise accounts come first, so the most frequent buyers are the biggest ones.
    row_number() OVER (
        PARTITION BY d.region
        ORDER BY list_position(['Enterprise', 'Mid-Market', 'SMB', 'Consumer'], s.item),
            d.customer_id
    ) AS region_rank
FROM drawn AS d
JOIN demo_pick AS c ON c.dimension = 'country' AND c.grp = d.region AND c.bucket = d.country_bucket
JOIN demo_pick AS s ON s.dimension = 'segment' AND s.grp = '' AND s.bucket = d.segment_bucket;

CREATE TEMP TABLE demo_region_sizes AS
SELECT region, count(*) AS customers FROM demo_customers GROUP BY region;
"""

# One cell per (day, region) with an integer weight (integers keep the cumulative sums exact);
# cell k owns order rows [first_row, end_row), so order_id grows with order_date.
_ORDER_CELLS = """
CREATE TEMP TABLE demo_order_cells AS
WITH weighted AS (
    SELECT
        d::DATE AS day,
        r.region,
        r.region_no,
        round(1e6 * r.share
            * pow(1 + r.growth, (d::DATE - getvariable('demo_start')) / 365.25)
            * [0.86, 0.84, 0.95, 0.97, 0.98, 0.91, 0.80, 0.78, 0.96, 1.06, 1.22, 1.38][month(d)]
            * [1.06, 1.10, 1.10, 1.08, 1.00, 0.52, 0.40][isodow(d)]
            * CASE WHEN strftime(d, '%m-%d') IN ('12-25', '12-26', '01-01') THEN 0.25 ELSE 1 END
            * CASE
                WHEN r.region = getvariable('demo_bad_region')
                    AND date_trunc('month', d) = getvariable('demo_bad_month')
                    THEN getvariable('demo_bad_factor')
                ELSE 1
            END
            * (0.85 + 0.30 * demo_uniform(d::DATE - DATE '2000-01-01', r.region_no))
        )::BIGINT AS weight
    FROM range(getvariable('demo_start'), getvariable('demo_end') + INTERVAL 1 DAY,
        INTERVAL 1 DAY) AS t(d)
    CROSS JOIN demo_regions AS r
),
cumulative AS (
    SELECT day, region, weight,
        sum(weight) OVER (ORDER BY day, region_no) AS upto,
        sum(weight) OVER () AS total
    FROM weighted
),
bounded AS (
    SELECT day, region,
        (getvariable('demo_rows')::HUGEINT * (upto - weight) // total)::BIGINT AS first_row,
        (getvariable('demo_rows')::HUGEINT * upto // total)::BIGINT AS end_row
    FROM cumulative
)
SELECT day, region, first_row FROM bounded WHERE end_row > first_row;

CREATE TEMP TABLE demo_big_orders AS
SELECT DISTINCT hash(k, 80, getvariable('demo_seed')) % getvariable('demo_rows') AS i
FROM range(6) AS t(k);
"""

_ORDERS = """
CREATE TABLE orders AS
WITH placed AS (
    SELECT o.i, c.day AS order_date, c.region,
        1 + floor(z.customers * pow(demo_uniform(o.i, 10), 1.8))::BIGINT AS customer_rank,
        floor(demo_uniform(o.i, 11) * 1000)::INTEGER AS channel_bucket,
        floor(demo_uniform(o.i, 12) * 1000)::INTEGER AS product_bucket,
        o.i IN (SELECT i FROM demo_big_orders) AS is_big
    FROM range(getvariable('demo_rows')) AS o(i)
    ASOF JOIN demo_order_cells AS c ON o.i >= c.first_row
    JOIN demo_region_sizes AS z ON z.region = c.region
),
chosen AS (
    SELECT p.i, p.order_date, p.region, p.is_big, cu.country, cu.customer_id, cu.segment,
        CASE WHEN p.is_big THEN 'Direct Sales' ELSE ch.item END AS channel,
        CASE
            WHEN p.is_big THEN getvariable('demo_big_product')
            WHEN p.order_date < pr.launched_on THEN dp.predecessor
            ELSE pr.product_id
        END AS product_id
    FROM placed AS p
    JOIN demo_customers AS cu ON cu.region = p.region AND cu.region_rank = p.customer_rank
    JOIN demo_pick AS ch
        ON ch.dimension = 'channel' AND ch.grp = cu.segment AND ch.bucket = p.channel_bucket
    JOIN demo_pick AS pp
        ON pp.dimension = 'product' AND pp.grp = '' AND pp.bucket = p.product_bucket
    JOIN products AS pr ON pr.product_id = pp.item::INTEGER
    JOIN demo_products AS dp ON dp.product_id = pr.product_id
),
sized AS (
    SELECT c.*, pr.product, pr.category, pr.list_price, pr.unit_cost,
        CASE WHEN c.is_big THEN 400 + floor(demo_uniform(c.i, 18) * 400)::INTEGER
        ELSE greatest(1, round(
            (1 + floor(pow(demo_uniform(c.i, 13), 2.5) * CASE pr.category
                WHEN 'Accessories' THEN 12 WHEN 'Software' THEN 40 WHEN 'Subscriptions' THEN 30
                WHEN 'Services' THEN 15 ELSE 4 END))
            * CASE c.segment
                WHEN 'Enterprise' THEN 3.0 WHEN 'Mid-Market' THEN 1.6 WHEN 'SMB' THEN 1.0
                ELSE 0.7 END
        ))::INTEGER END AS units,
        least(0.35, CASE WHEN c.is_big THEN 0.35 ELSE
            CASE c.channel
                WHEN 'Online' THEN CASE WHEN demo_uniform(c.i, 14) < 0.6 THEN 0.0
                    ELSE 0.10 * demo_uniform(c.i, 15) END
                WHEN 'Retail' THEN 0.12 * demo_uniform(c.i, 15)
                WHEN 'Partner' THEN 0.12 + 0.16 * demo_uniform(c.i, 15)
                ELSE 0.05 + 0.25 * demo_uniform(c.i, 15)
            END + CASE WHEN c.segment = 'Enterprise' THEN 0.03 ELSE 0 END
        END)::DECIMAL(5, 4) AS discount
    FROM chosen AS c
    JOIN products AS pr ON pr.product_id = c.product_id
)
SELECT
    1000001 + i AS order_id, order_date, region, country, channel, product_id, product,
    category, customer_id, units,
    round(units * list_price * (0.97 + 0.06 * demo_uniform(i, 16)) * (1 - discount), 2)
        ::DECIMAL(14, 2) AS revenue,
    round(units * unit_cost * (0.95 + 0.10 * demo_uniform(i, 17)), 2)::DECIMAL(14, 2) AS cost,
    discount
FROM sized
ORDER BY order_id;
"""

_CUSTOMERS = """
CREATE TABLE customers AS
WITH first_orders AS (
    SELECT customer_id, min(order_date) AS first_order FROM orders GROUP BY customer_id
)
SELECT c.customer_id, c.name, c.email, c.phone, c.country, c.region, c.segment,
    coalesce(
        f.first_order - floor(demo_uniform(c.customer_id, 35) * 400)::INTEGER,
        getvariable('demo_start') - 730 + floor(demo_uniform(c.customer_id, 36)
            * (getvariable('demo_end') - getvariable('demo_start') + 730))::INTEGER
    ) AS signup_date
FROM demo_customers AS c
LEFT JOIN first_orders AS f USING (customer_id)
ORDER BY c.customer_id;
"""

# A ticket follows an order within a week, so ticket volume inherits growth and seasonality.
# "Now" is midnight after end_date; a ticket whose resolution would end later is still open.
_SUPPORT_TICKETS = """
CREATE TABLE support_tickets AS
WITH drawn AS (
    SELECT k,
        1000001 + floor(demo_uniform(k, 50) * getvariable('demo_rows'))::BIGINT AS order_id,
        floor(demo_uniform(k, 51) * 1000)::INTEGER AS channel_bucket,
        floor(demo_uniform(k, 52) * 1000)::INTEGER AS category_bucket
    -- Candidates that would open after end_date are dropped; ten percent spare keeps the count.
    FROM range(getvariable('demo_tickets') * 11 // 10 + 20) AS t(k)
),
opened AS (
    SELECT d.k, o.region, o.country, o.customer_id, ch.item AS channel, ca.item AS category,
        o.order_date
            + to_days(floor(pow(demo_uniform(d.k, 53), 2) * 7)::INTEGER)
            + to_seconds(CASE WHEN demo_uniform(d.k, 54) < 0.85
                THEN 25200 + floor(demo_uniform(d.k, 55) * 50400)
                ELSE floor(demo_uniform(d.k, 55) * 86400) END::BIGINT) AS opened_at
    FROM drawn AS d
    JOIN orders AS o USING (order_id)
    JOIN demo_pick AS ch
        ON ch.dimension = 'ticket_channel' AND ch.grp = '' AND ch.bucket = d.channel_bucket
    JOIN demo_pick AS ca
        ON ca.dimension = 'ticket_category' AND ca.grp = '' AND ca.bucket = d.category_bucket
),
kept AS (
    SELECT * FROM opened
    WHERE opened_at < getvariable('demo_end') + INTERVAL 1 DAY
    QUALIFY row_number() OVER (ORDER BY k) <= getvariable('demo_tickets')
),
prioritised AS (
    SELECT *,
        CASE
            WHEN demo_uniform(k, 56) < CASE category WHEN 'Outage' THEN 0.40 ELSE 0.03 END
                THEN 'P1'
            WHEN demo_uniform(k, 56) < CASE category WHEN 'Outage' THEN 0.80 ELSE 0.16 END
                THEN 'P2'
            WHEN demo_uniform(k, 56) < 0.62 THEN 'P3'
            ELSE 'P4'
        END AS priority,
        CASE channel WHEN 'Chat' THEN 0.7 WHEN 'Phone' THEN 0.8 WHEN 'Email' THEN 1.1 ELSE 1.2
            END AS pace,
        epoch(getvariable('demo_end')::TIMESTAMP + INTERVAL 1 DAY - opened_at) / 3600
            AS age_hours
    FROM kept
),
timed AS (
    SELECT *,
        [4, 8, 24, 72][priority[2]::INTEGER] AS sla_hours,
        greatest(0.05, round([4, 8, 24, 72][priority[2]::INTEGER] * 0.45 * pace
            * exp(0.8 * demo_normal(k, 57)), 2)) AS resolution_draw,
        greatest(1, round([15, 45, 120, 300][priority[2]::INTEGER]
            * CASE channel WHEN 'Phone' THEN 0.1 WHEN 'Chat' THEN 0.2 ELSE pace END
            * exp(0.7 * demo_normal(k, 58))))::INTEGER AS response_draw,
        -- About one ticket in a hundred gets stuck, so old backlog exists too.
        resolution_draw > age_hours OR demo_uniform(k, 59) < 0.01 AS unresolved
    FROM prioritised
)
SELECT
    row_number() OVER (ORDER BY opened_at, k) AS ticket_id,
    opened_at,
    CASE WHEN NOT unresolved THEN opened_at + to_microseconds(
        (resolution_draw * 3600000000)::BIGINT) END AS closed_at,
    region, country, channel, priority, category,
    CASE WHEN NOT unresolved THEN 'solved' WHEN demo_uniform(k, 60) < 0.55 THEN 'open'
        ELSE 'pending' END AS status,
    customer_id,
    sla_hours,
    CASE WHEN least(response_draw, resolution_draw * 60) <= age_hours * 60
        THEN least(response_draw, ceil(resolution_draw * 60))::INTEGER END
        AS first_response_minutes,
    CASE WHEN NOT unresolved THEN resolution_draw END AS resolution_hours,
    CASE WHEN unresolved THEN age_hours > sla_hours ELSE resolution_draw > sla_hours END
        AS sla_breached,
    CASE WHEN NOT unresolved AND demo_uniform(k, 61) < 0.7 THEN
        least(5, greatest(1, round(4.3 - CASE WHEN resolution_draw > sla_hours THEN 1.4 ELSE 0 END
            + 0.9 * demo_normal(k, 62))))::INTEGER
    END AS satisfaction
FROM timed
ORDER BY ticket_id;
"""

# Targets were set near what happened (attainment 91-111%), except for the bad month, which was
# planned as a normal month.
_TARGETS = """
CREATE TABLE targets AS
WITH months AS (
    SELECT m::DATE AS month
    FROM range(date_trunc('month', getvariable('demo_start')),
        date_trunc('month', getvariable('demo_end')) + INTERVAL 1 MONTH,
        INTERVAL 1 MONTH) AS t(m)
),
grid AS (
    SELECT m.month, r.region, r.region_no, c.category, c.category_no
    FROM months AS m
    CROSS JOIN demo_regions AS r
    CROSS JOIN (
        SELECT category, min(product_id) AS category_no FROM products GROUP BY category
    ) AS c
),
actual AS (
    SELECT date_trunc('month', order_date)::DATE AS month, region, category,
        sum(revenue) AS revenue, sum(units) AS units
    FROM orders GROUP BY ALL
),
typical AS (
    SELECT region, category, avg(revenue) AS revenue, avg(units) AS units
    FROM actual GROUP BY ALL
)
SELECT g.month, g.region, g.category,
    round(coalesce(a.revenue, t.revenue, 0) * f.factor, 2)::DECIMAL(14, 2) AS revenue_target,
    round(coalesce(a.units, t.units, 0) * f.factor)::BIGINT AS units_target
FROM grid AS g
CROSS JOIN LATERAL (
    SELECT (0.9 + 0.2 * demo_uniform(
            (g.month - DATE '2000-01-01') * 1000 + g.region_no * 100 + g.category_no, 70))
        / CASE WHEN g.region = getvariable('demo_bad_region')
            AND g.month = getvariable('demo_bad_month') THEN getvariable('demo_bad_factor')
            ELSE 1 END AS factor
) AS f
LEFT JOIN actual AS a USING (month, region, category)
LEFT JOIN typical AS t USING (region, category)
ORDER BY g.month, g.region_no, g.category;
"""

_META = """
CREATE TABLE demo_meta AS
SELECT getvariable('demo_version')::INTEGER AS generator_version,
    getvariable('demo_seed')::INTEGER AS seed,
    getvariable('demo_rows')::BIGINT AS rows,
    getvariable('demo_end')::DATE AS end_date;
"""


def seed_demo_warehouse(
    path: Path, *, rows: int = 5_000_000, seed: int = DEMO_SEED, end_date: date | None = None
) -> DemoSummary:
    """Generate the demo warehouse at ``path``, replacing any file there in one atomic step.

    Raises ``ValueError`` listing every invalid argument; a failure while building leaves
    ``path`` as it was and removes the partial file.
    """
    end = date.today() if end_date is None else end_date
    _validate(path, rows, seed, end)
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    building = path.with_name(f".{path.name}.{secrets.token_hex(6)}.building")
    try:
        with duckdb.connect(str(building)) as con:
            con.execute("SET enable_progress_bar = false")  # a library must not draw on stderr
            _build(con, rows=rows, seed=seed, end=end)
            table_rows = {table: _count(con, table) for table in TABLES}
            con.execute("CHECKPOINT")
        # A stale write-ahead log next to the target would be replayed onto the new file.
        Path(f"{path}.wal").unlink(missing_ok=True)
        building.replace(path)  # os.replace: atomic within one folder
    finally:
        _remove_leftovers(building)
    return DemoSummary(
        path=path,
        rows=rows,
        seed=seed,
        end_date=end,
        table_rows=table_rows,
        seconds=time.perf_counter() - started,
    )


def demo_warehouse_exists(path: Path) -> bool:
    """Whether ``path`` holds a complete generated warehouse (its ``demo_meta`` row is there)."""
    if not path.is_file():
        return False
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            found = con.execute("SELECT count(*) FROM demo_meta").fetchone()
    except duckdb.Error:
        return False
    return found is not None and found[0] == 1


def _validate(path: Path, rows: int, seed: int, end: date) -> None:
    """Report every bad argument at once, each with what would be accepted."""
    problems: list[str] = []
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < MIN_ROWS:
        problems.append(f"rows must be an integer of at least {MIN_ROWS:,}, got {rows!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed not in _SEED_RANGE:
        problems.append(
            f"seed must be an integer from {_SEED_RANGE.start} to {_SEED_RANGE.stop - 1}, "
            f"got {seed!r}"
        )
    if not isinstance(end, date) or isinstance(end, datetime):
        problems.append(f"end_date must be a date (not a datetime), got {end!r}")
    elif not _END_DATE_RANGE[0] <= end <= _END_DATE_RANGE[1]:
        problems.append(
            f"end_date must lie between {_END_DATE_RANGE[0]} and {_END_DATE_RANGE[1]}, got {end}"
        )
    if path.is_dir():
        problems.append(f"path must be a file, but {path} is a folder")
    if problems:
        raise ValueError("cannot generate the demo warehouse: " + "; ".join(problems))


def _window_start(end: date) -> date:
    """First day of the three years ending on ``end`` inclusive (29 February falls back a day)."""
    try:
        three_years_before = end.replace(year=end.year - 3)
    except ValueError:
        three_years_before = end.replace(year=end.year - 3, day=28)
    return three_years_before + timedelta(days=1)


def _build(con: duckdb.DuckDBPyConnection, *, rows: int, seed: int, end: date) -> None:
    """Create every table; the order matters, later statements read earlier tables."""
    bad_month = date(end.year, end.month, 1)
    for _ in range(_BAD_MONTH_BEFORE_END):
        bad_month = (bad_month - timedelta(days=1)).replace(day=1)
    variables: dict[str, object] = {
        "demo_seed": seed,
        "demo_rows": rows,
        "demo_customers": max(200, rows // 50),
        "demo_tickets": max(100, rows // 25),
        "demo_end": end,
        "demo_start": _window_start(end),
        "demo_bad_month": bad_month,
        "demo_bad_region": _BAD_MONTH_REGION,
        "demo_bad_factor": _BAD_MONTH_FACTOR,
        "demo_big_product": _BIG_ORDER_PRODUCT,
        "demo_version": GENERATOR_VERSION,
        "demo_first_names": list(_FIRST_NAMES),
        "demo_last_names": list(_LAST_NAMES),
        "demo_area_codes": list(_AREA_CODES),
    }
    for name, value in variables.items():
        # Variable names are the literal keys above; values always travel as parameters.
        con.execute(f"SET VARIABLE {name} = ?", [value])
    con.execute(_MACROS)
    _create_lookups(con)
    con.execute(_PRODUCTS_TABLE)
    con.execute(_CUSTOMER_BASE)
    con.execute(_ORDER_CELLS)
    con.execute(_ORDERS)
    con.execute(_CUSTOMERS)
    con.execute(_SUPPORT_TICKETS)
    con.execute(_TARGETS)
    con.execute(_META)


def _create_lookups(con: duckdb.DuckDBPyConnection) -> None:
    """Load the constant catalogues (regions, weighted choices, products) into temp tables."""
    con.execute(_LOOKUPS)
    con.executemany(
        "INSERT INTO demo_regions VALUES (?, ?, ?, ?)",
        [(name, no, share, growth) for no, (name, share, growth) in enumerate(_REGIONS, 1)],
    )
    con.executemany("INSERT INTO demo_choices VALUES (?, ?, ?, ?, ?)", _choices())
    con.executemany("INSERT INTO demo_products VALUES (?, ?, ?, ?, ?, ?, ?, ?)", _PRODUCTS)
    con.execute(_PICK_TABLE)


def _choices() -> list[tuple[str, str, str, int, int]]:
    """Every weighted choice as a ``demo_choices`` row (dimension, group, item, number, weight)."""
    dimensions: dict[str, dict[str, dict[str, int]]] = {
        "country": _COUNTRY_WEIGHTS,
        "segment": {"": _SEGMENT_WEIGHTS},
        "channel": _CHANNEL_WEIGHTS,
        "ticket_channel": {"": _TICKET_CHANNEL_WEIGHTS},
        "ticket_category": {"": _TICKET_CATEGORY_WEIGHTS},
    }
    return [
        (dimension, group, item, item_no, weight)
        for dimension, groups in dimensions.items()
        for group, weights in groups.items()
        for item_no, (item, weight) in enumerate(weights.items())
    ]


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Row count of one table."""
    found = con.execute("SELECT count(*) FROM query_table(?)", [table]).fetchone()
    return 0 if found is None else int(found[0])


def _remove_leftovers(building: Path) -> None:
    """Delete the partial database, its write-ahead log and its spill folder, if any remain."""
    building.unlink(missing_ok=True)
    Path(f"{building}.wal").unlink(missing_ok=True)
    shutil.rmtree(f"{building}.tmp", ignore_errors=True)
