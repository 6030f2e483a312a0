"""The DuckDB statements that generate the demo warehouse, run in order by `demo._build`.

Every random draw is ``hash(key, stream, seed)``; the generator's inputs arrive as DuckDB
variables (``getvariable(...)``) set from Python with bound values.
"""

# Uniform in [0, 1) from a key and a stream number: 53 high bits of DuckDB's hash. Each use
# below takes its own stream so that no two attributes share a random draw.
MACROS = """
CREATE TEMP MACRO demo_uniform(k, stream) AS
    (hash(k, stream, getvariable('demo_seed')) >> 11)::DOUBLE / 9007199254740992.0;
CREATE TEMP MACRO demo_normal(k, stream) AS
    sqrt(-2 * ln(1 - demo_uniform(k, stream)))
    * cos(2 * pi() * demo_uniform(k, stream + 1000));
-- Signup day of the new customer at `rank` in its region (ranks above `established` are new):
-- spread over the last 60 days, the newest one on end_date itself, so every region's customer
-- data is fresh on the day the warehouse is generated.
CREATE TEMP MACRO demo_new_signup(region, rank, established, customers) AS
    getvariable('demo_end') - floor(60 * (rank - established - 1
        + CASE WHEN rank - established > 1 THEN demo_uniform(hash(region, rank), 38) ELSE 0 END)
        / (customers - established))::INTEGER;
"""

LOOKUPS = """
CREATE TEMP TABLE demo_regions (region VARCHAR, region_no INTEGER, share DOUBLE, growth DOUBLE);
CREATE TEMP TABLE demo_choices (
    dimension VARCHAR, grp VARCHAR, item VARCHAR, item_no INTEGER, weight INTEGER);
CREATE TEMP TABLE demo_products (
    product_id INTEGER, product VARCHAR, category VARCHAR, list_price DECIMAL(10, 2),
    unit_cost DECIMAL(10, 2), launched_months INTEGER, popularity INTEGER, predecessor INTEGER);
"""

# Bucket b of 1000 in a (dimension, group) holds the item whose cumulative weight covers it, so a
# weighted draw is an equality join on floor(u * 1000).
PICK_TABLE = """
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

PRODUCTS_TABLE = """
CREATE TABLE products AS
SELECT product_id, product, category, list_price, unit_cost,
    (date_trunc('month', getvariable('demo_end')) - to_months(launched_months)
        + to_days((product_id * 7) % 28))::DATE AS launched_on
FROM demo_products
ORDER BY product_id;
"""

CUSTOMER_BASE = """
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
        (hash(i, 34, getvariable('demo_seed')) >> 1)::BIGINT AS phone_draw,
        demo_uniform(i, 37) AS newness
    FROM range(getvariable('demo_customers')) AS t(i)
),
-- Three percent of each region's customers (at least one) signed up in the last weeks.
aged AS (
    SELECT *,
        row_number() OVER (PARTITION BY region ORDER BY newness, customer_id)
            <= greatest(1, count(*) OVER (PARTITION BY region) * 3 // 100) AS is_new
    FROM drawn
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
    d.is_new,
    -- Enterprise accounts come first, so the most frequent buyers are the biggest ones; new
    -- customers come last, so ranks above a region's established count are the new ones.
    row_number() OVER (
        PARTITION BY d.region
        ORDER BY d.is_new,
            list_position(['Enterprise', 'Mid-Market', 'SMB', 'Consumer'], s.item),
            d.customer_id
    ) AS region_rank
FROM aged AS d
JOIN demo_pick AS c ON c.dimension = 'country' AND c.grp = d.region AND c.bucket = d.country_bucket
JOIN demo_pick AS s ON s.dimension = 'segment' AND s.grp = '' AND s.bucket = d.segment_bucket;

CREATE TEMP TABLE demo_region_sizes AS
SELECT region, count(*) AS customers, count(*) FILTER (WHERE NOT is_new) AS established
FROM demo_customers GROUP BY region;
"""

# One cell per (day, region) with an integer weight (integers keep the cumulative sums exact);
# cell k owns order rows [first_row, end_row), so order_id grows with order_date.
ORDER_CELLS = """
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

ORDERS = """
CREATE TABLE orders AS
WITH placed AS (
    SELECT o.i, c.day AS order_date, c.region,
        1 + floor(z.customers * pow(demo_uniform(o.i, 10), 1.8))::BIGINT AS drawn_rank,
        -- A new customer cannot buy before signing up: the order goes to an established one.
        CASE
            WHEN drawn_rank > z.established
                AND c.day < demo_new_signup(c.region, drawn_rank, z.established, z.customers)
                THEN 1 + floor(z.established * pow(demo_uniform(o.i, 10), 1.8))::BIGINT
            ELSE drawn_rank
        END AS customer_rank,
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
-- Stored by region, then date: every query of a region-limited user filters on the region (its
-- row policy) and most on a date range, so DuckDB's zone maps skip the other regions' row groups.
ORDER BY region, order_date, order_id;
"""

CUSTOMERS = """
CREATE TABLE customers AS
WITH first_orders AS (
    SELECT customer_id, min(order_date) AS first_order FROM orders GROUP BY customer_id
)
SELECT c.customer_id, c.name, c.email, c.phone, c.country, c.region, c.segment,
    CASE
        WHEN c.is_new THEN demo_new_signup(c.region, c.region_rank, z.established, z.customers)
        ELSE coalesce(
            f.first_order - floor(demo_uniform(c.customer_id, 35) * 400)::INTEGER,
            getvariable('demo_start') - 730 + floor(demo_uniform(c.customer_id, 36)
                * (getvariable('demo_end') - getvariable('demo_start') + 730))::INTEGER
        )
    END AS signup_date
FROM demo_customers AS c
JOIN demo_region_sizes AS z USING (region)
LEFT JOIN first_orders AS f USING (customer_id)
ORDER BY c.customer_id;
"""

# A ticket follows an order within a week, so ticket volume inherits growth and seasonality.
# "Now" is midnight after end_date; a ticket whose resolution would end later is still open.
SUPPORT_TICKETS = """
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
TARGETS = """
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

META = """
CREATE TABLE demo_meta AS
SELECT getvariable('demo_version')::INTEGER AS generator_version,
    getvariable('demo_seed')::INTEGER AS seed,
    getvariable('demo_rows')::BIGINT AS rows,
    getvariable('demo_end')::DATE AS end_date;
"""
