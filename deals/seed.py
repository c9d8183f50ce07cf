"""Sales demo data (issue 6, item 10): catalogue and prices, deals, orders, contracts, suppliers.

Called by `seed_demo` after contacts.seed (it needs the users, companies and people of crm.seed and
contacts.seed, from `ctx.shared`). Sizes (S is the `make run` demo, M a tenth of L):

    |                         | S      | M       | L         |
    |-------------------------|--------|---------|-----------|
    | products (64 categories)| 200    | 500     | 5,000     |
    | deals                   | 1,000  | 50,000  | 500,000   |
    |   open in "Продажі"     | 120    | 2,000   | 20,000    |
    | orders                  | 1,500  | 100,000 | 1,000,000 |
    | contracts               | 40     | 200     | 2,000     |
    | suppliers with profiles | 12     | 30      | 300       |
    | purchase deliveries     | 500    | 5,000   | 50,000    |

What the rows look like:
- Deals belong to the owner (and team) of their company, customers and prospects, a few clients with
  many deals and most with a handful. Open deals (the last six months) sit in the four open stages of
  the default pipeline "Продажі" (migration 0002) — about 20,000 at L: the kanban bench — or of a
  second pipeline "Тендери"; closed ones (the last three years) are won or lost, a lost one with a
  LossReason, a comment and often a competitor. Part of them have lines (products, quantities,
  prices, discounts; the amount is the sum of the lines' net amounts); every deal has its stage
  history: the creation row, then each stage of an open deal, or the closing move of a closed one.
- Orders: yearly numbers "YYYY-NNNNNN" in creation order (Europe/Kyiv years; the OrderNumber rows hold
  the last number of each year), lines with the totals of deals.services_orders (net rounded half-up per
  line, VAT per line, sums), statuses that follow the dates (recent orders are open, old ones mostly
  completed), about 11% cancelled or failed with a FailureReason and a comment, some stuck open past
  their expected date (the "overdue" list). Won deals with lines became orders (source "deal", the
  deal's lines). Status history: the creation row and the last change of every order, every step of
  the orders of the last 60 days.
- Contracts of customers (active, expired, terminated, drafts; 5% end within 30 days, not yet announced).
- Suppliers: companies with the supplier role (given to more if there are too few) get a profile;
  the first products have 3–6 offers each, others 0–2; deliveries of the last two years come from
  offers, on time, late or partial by each supplier's reliability, the recent ones not yet delivered.
- Three customer groups with price lists (this year's and last year's), price lists of some
  companies, discounts (company, category, both), the two loyalty rules.
- The demo client (contacts.seed.DEMO_CLIENT_EDRPOU) and the companies of the bench manager
  (bench/pages.py BENCH_USER) always get open deals with lines, won and lost deals, and orders of
  every kind, so their cards and the bench pages have data at every size.

Speed: rows are built in Python from the seeded rng and loaded with COPY in chunks (one COPY per table
per chunk: a connection runs one COPY at a time, and a deal's or an order's lines and history are built
with it); money is integer kopecks, so the line rule is exact integer arithmetic; ids are reserved up
front. At sizes M and L the secondary indexes and foreign keys of the big tables are dropped around the
load (contacts.seed._bulk_load). No simple-history rows, as in contacts.seed.

Dates are relative to today 00:00 UTC ("now" for the seeder, so a second run on the same day makes the
same rows): the newest orders and deals are from the last hours before it. Interactions are not linked to
deals or orders here (contacts.seed's counts stay as they are); the cards' interaction lists start empty.

Measured on this machine (2 cores shared with other agents' test runs, load average 3–5):
- S: 0.5 s of a 1.2 s `seed_demo --size S`;
- M: 8–9 s of a 33 s `seed_demo --size M`;
- L: 83–94 s at a load average of 3 (152 s at 5), timed on top of an L contacts database and rolled back:
  500k deals, 0.36M deal lines, 1.0M stage changes, 1M orders, 2.7M order lines, 2.7M status changes
  (Python builds the rows in ~40 s, COPY takes ~20 s, rebuilding indexes and foreign keys ~25 s).
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.utils import timezone
from tqdm import tqdm

from contacts.models import Region
from contacts.seed import BULK_LOAD_SIZES, _bulk_load, _Clock, _reserve_ids, _weighted_table
from crm.lib.cached import bump
from crm.models import User
from crm.seeding import SeedContext
from deals import aggregates
from deals.models import (
    Category,
    ContractStatus,
    CustomerGroup,
    DealSource,
    DealStatus,
    Discount,
    FailureReason,
    LossReason,
    LoyaltyRule,
    OrderNumber,
    OrderSource,
    OrderStatus,
    PaymentStatus,
    Pipeline,
    PriceList,
    PriceListItem,
    Stage,
)

# The bench signs in as this sales manager (bench/pages.py BENCH_USER): its own companies get deals with
# lines and orders with history at every size.
BENCH_MANAGER_EMAIL = "manager@example.com"
DEFAULT_PIPELINE = "Продажі"
TENDER_PIPELINE = "Тендери"
TENDER_STAGES = [("Оголошення", 10, False, False), ("Підготовка пропозиції", 30, False, False),
                 ("Пропозицію подано", 50, False, False), ("Перемога", 100, True, False),
                 ("Поразка", 0, False, True)]  # fmt: skip

# Tables loaded with their secondary indexes and foreign keys dropped at sizes M and L.
BIG_TABLES = ("deals_deal", "deals_dealline", "deals_dealstagechange", "deals_order", "deals_orderline",
              "deals_orderstatuschange")  # fmt: skip
CHUNK = 20_000  # deals or orders per round of COPYs
DAY = 86_400
HOUR = 3_600


@dataclass(frozen=True)
class _Size:
    products: int
    deals: int
    open_deals: int  # open deals of the default pipeline: the kanban bench wants about 20,000 at L
    open_tender_deals: int
    orders: int
    contracts: int
    suppliers: int
    offer_products: int  # the first products, with 3–6 offers each
    deliveries: int
    demo_deals: int  # deals and orders of the demo client
    demo_orders: int
    group_members: int  # companies per customer group
    price_list_companies: int
    company_discounts: int


SIZES = {
    "S": _Size(200, 1_000, 120, 20, 1_500, 40, 12, 20, 500, 20, 40, 10, 3, 10),
    "M": _Size(500, 50_000, 2_000, 300, 100_000, 200, 30, 50, 5_000, 40, 300, 100, 10, 100),
    "L": _Size(5_000, 500_000, 20_000, 3_000, 1_000_000, 2_000, 300, 500, 50_000, 40, 300, 300, 30, 500),
}

# --- Catalogue ---------------------------------------------------------------------------------------
# (name uk, name en, SKU prefix, trade marks, leaves); a leaf is (name uk, name en, description uk,
# description en, items); an item is (name uk, name en, unit, price in UAH, VAT, variants) and a variant
# (uk, en, price factor). Products combine item × variant × trade mark (× series when more are needed).

V20, V7, VEX = "20.00", "7.00", "-1"
CATALOGUE: list[tuple[str, str, str, tuple[str, ...], list[tuple]]] = [
    ("Будівельні матеріали", "Building materials", "BLD",
     ("Budmix", "Termolit", "Granum", "Polimax", "Arex", "Kvarta", "Monolit", "Dniprobud"), [
        ("Сухі будівельні суміші", "Dry building mixes", "Для внутрішніх і зовнішніх робіт.",
         "For indoor and outdoor work.", [
            ("Клей для плитки", "Tile adhesive", "pcs", 320, V20,
             [("мішок 25 кг", "25 kg bag", 1), ("мішок 5 кг", "5 kg bag", 0.3)]),
            ("Штукатурка гіпсова", "Gypsum plaster", "pcs", 290, V20,
             [("мішок 30 кг", "30 kg bag", 1), ("мішок 15 кг", "15 kg bag", 0.55)]),
            ("Шпаклівка фінішна", "Finishing putty", "pcs", 260, V20,
             [("мішок 20 кг", "20 kg bag", 1), ("мішок 5 кг", "5 kg bag", 0.32)]),
            ("Стяжка для підлоги", "Floor screed", "pcs", 210, V20, [("мішок 25 кг", "25 kg bag", 1)]),
        ]),
        ("Цемент і сипучі матеріали", "Cement and aggregates", "Відвантаження зі складу або доставка на об'єкт.",
         "Shipped from the warehouse or delivered to site.", [
            ("Цемент ПЦ ІІ/А-Ш-500", "Portland cement CEM II/A-S 42.5", "pcs", 215, V20,
             [("мішок 25 кг", "25 kg bag", 1), ("мішок 50 кг", "50 kg bag", 1.9)]),
            ("Цемент навалом", "Bulk cement", "t", 3900, V20, [("М500", "M500", 1), ("М400", "M400", 0.9)]),
            ("Пісок митий", "Washed sand", "t", 650, V20, [("річковий", "river", 1), ("кар'єрний", "quarry", 0.8)]),
            ("Щебінь гранітний", "Granite crushed stone", "t", 1100, V20,
             [("фракція 5–20", "5–20 mm", 1), ("фракція 20–40", "20–40 mm", 0.95)]),
        ]),
        ("Покрівельні матеріали", "Roofing", "Гарантія виробника до 20 років.",
         "Manufacturer's warranty up to 20 years.", [
            ("Металочерепиця", "Metal roof tiles", "m2", 320, V20,
             [("0,45 мм", "0.45 mm", 1), ("0,5 мм", "0.5 mm", 1.15)]),
            ("Бітумна черепиця", "Bitumen shingles", "m2", 410, V20,
             [("коричнева", "brown", 1), ("червона", "red", 1), ("графіт", "graphite", 1.05)]),
            ("Профнастил ПС-20", "Trapezoidal sheet PS-20", "m2", 260, V20,
             [("оцинкований", "galvanised", 1), ("з полімерним покриттям", "polymer-coated", 1.2)]),
            ("Гідроізоляційна мембрана", "Waterproofing membrane", "m2", 55, V20, [("рулон 75 м²", "75 m² roll", 1)]),
        ]),
        ("Утеплювачі", "Insulation", "Теплоізоляція стін, дахів і перекриттів.",
         "Thermal insulation for walls, roofs and floors.", [
            ("Мінеральна вата", "Mineral wool", "m2", 95, V20, [("50 мм", "50 mm", 1), ("100 мм", "100 mm", 1.9)]),
            ("Пінопласт ПСБ-С-25", "EPS board PSB-S-25", "m2", 70, V20,
             [("50 мм", "50 mm", 1), ("100 мм", "100 mm", 1.95)]),
            ("Екструдований пінополістирол", "XPS board", "m2", 180, V20,
             [("30 мм", "30 mm", 1), ("50 мм", "50 mm", 1.6)]),
        ]),
        ("Гіпсокартон і профілі", "Plasterboard and profiles", "Для перегородок, стель і облицювання стін.",
         "For partitions, ceilings and wall lining.", [
            ("Гіпсокартон стіновий 12,5 мм", "Wall plasterboard 12.5 mm", "pcs", 245, V20,
             [("2500×1200", "2500×1200", 1), ("3000×1200", "3000×1200", 1.2)]),
            ("Профіль CD-60", "CD-60 profile", "pcs", 95, V20, [("3 м", "3 m", 1), ("4 м", "4 m", 1.3)]),
            ("Профіль UD-27", "UD-27 profile", "pcs", 65, V20, [("3 м", "3 m", 1), ("4 м", "4 m", 1.3)]),
            ("Саморізи для гіпсокартону", "Drywall screws", "pack", 120, V20,
             [("3,5×25, 1000 шт.", "3.5×25, 1000 pcs", 1), ("3,5×35, 1000 шт.", "3.5×35, 1000 pcs", 1.2)]),
        ]),
        ("Лакофарбові матеріали", "Paints and coatings", "Швидко висихає, без різкого запаху.",
         "Dries quickly, no strong smell.", [
            ("Фарба інтер'єрна", "Interior paint", "pcs", 850, V20, [("10 л", "10 l", 1), ("2,5 л", "2.5 l", 0.28)]),
            ("Фарба фасадна", "Facade paint", "pcs", 1350, V20, [("10 л", "10 l", 1), ("5 л", "5 l", 0.52)]),
            ("Ґрунтовка глибокого проникнення", "Deep penetration primer", "pcs", 330, V20, [("10 л", "10 l", 1)]),
            ("Емаль ПФ-115", "Alkyd enamel PF-115", "pcs", 240, V20,
             [("біла, 2,8 кг", "white, 2.8 kg", 1), ("сіра, 2,8 кг", "grey, 2.8 kg", 1), ("чорна, 0,9 кг",
              "black, 0.9 kg", 0.4)]),
        ]),
        ("Цегла і блоки", "Bricks and blocks", "Продаж піддонами і поштучно.", "Sold by the pallet or by the piece.", [
            ("Цегла рядова М-150", "Common brick M-150", "pcs", 9.5, V20,
             [("повнотіла", "solid", 1), ("пустотіла", "hollow", 0.9)]),
            ("Газоблок D500", "Aerated concrete block D500", "pcs", 85, V20,
             [("200 мм", "200 mm", 1), ("300 мм", "300 mm", 1.45)]),
            ("Цегла облицювальна", "Facing brick", "pcs", 16, V20,
             [("червона", "red", 1), ("солом'яна", "straw", 1.05)]),
        ]),
    ]),
    ("Пакування", "Packaging", "PKG", ("Packline", "Ukrpak", "Korob", "Stretchpro", "Folia", "Ecopak", "Tara",
     "Kartonex"), [
        ("Гофрокартонні коробки", "Corrugated boxes", "Тришаровий гофрокартон, марка Т-23.",
         "Three-layer corrugated board, grade T-23.", [
            ("Коробка чотириклапанна", "Four-flap box", "pcs", 14, V20,
             [("300×200×200", "300×200×200", 1), ("400×300×300", "400×300×300", 1.6), ("600×400×400",
              "600×400×400", 2.8)]),
            ("Коробка самозбірна", "Die-cut mailer box", "pcs", 11, V20, [("А4", "A4", 1), ("А5", "A5", 0.7)]),
            ("Гофрокартон у листах", "Corrugated board sheets", "m2", 18, V20,
             [("тришаровий", "three-layer", 1), ("п'ятишаровий", "five-layer", 1.7)]),
        ]),
        ("Плівки", "Films", "Для палетування й захисту вантажів.", "For pallet wrapping and protecting goods.", [
            ("Стрейч-плівка ручна", "Hand stretch film", "pcs", 190, V20,
             [("17 мкм", "17 µm", 0.9), ("20 мкм", "20 µm", 1), ("23 мкм", "23 µm", 1.15)]),
            ("Стрейч-плівка машинна", "Machine stretch film", "pcs", 980, V20,
             [("500 мм × 1500 м", "500 mm × 1500 m", 1)]),
            ("Плівка повітряно-бульбашкова", "Bubble wrap", "m", 14, V20,
             [("1,2 м", "1.2 m", 1), ("1,5 м", "1.5 m", 1.25)]),
        ]),
        ("Пакети і мішки", "Bags and sacks", "Поліетилен і поліпропілен, різні розміри.",
         "Polyethylene and polypropylene, many sizes.", [
            ("Пакет-майка", "T-shirt bag", "pack", 65, V20,
             [("38×57, 100 шт.", "38×57, 100 pcs", 1), ("44×70, 100 шт.", "44×70, 100 pcs", 1.4)]),
            ("Мішок поліпропіленовий", "Woven PP sack", "pcs", 6.5, V20,
             [("на 50 кг", "for 50 kg", 1), ("на 25 кг", "for 25 kg", 0.7)]),
            ("Мішок для сміття", "Garbage bag", "pack", 45, V20,
             [("120 л, 10 шт.", "120 l, 10 pcs", 1), ("60 л, 20 шт.", "60 l, 20 pcs", 0.9)]),
        ]),
        ("Скотч і стрічки", "Tapes and strapping", "Надійне склеювання при температурі до −10 °C.",
         "Holds at temperatures down to −10 °C.", [
            ("Скотч пакувальний", "Packing tape", "pcs", 28, V20,
             [("48 мм × 66 м", "48 mm × 66 m", 1), ("48 мм × 200 м", "48 mm × 200 m", 2.6)]),
            ("Стрічка поліпропіленова", "PP strapping", "pcs", 590, V20, [("12 мм × 3000 м", "12 mm × 3000 m", 1)]),
            ("Скотч малярний", "Masking tape", "pcs", 32, V20, [("25 мм", "25 mm", 0.8), ("48 мм", "48 mm", 1)]),
        ]),
        ("Харчова упаковка", "Food packaging", "Матеріали, дозволені для контакту з харчовими продуктами.",
         "Materials approved for food contact.", [
            ("Контейнер одноразовий", "Disposable container", "pack", 120, V20,
             [("500 мл, 50 шт.", "500 ml, 50 pcs", 1), ("1000 мл, 50 шт.", "1000 ml, 50 pcs", 1.4)]),
            ("Стакан паперовий", "Paper cup", "pack", 95, V20,
             [("250 мл, 50 шт.", "250 ml, 50 pcs", 1), ("400 мл, 50 шт.", "400 ml, 50 pcs", 1.3)]),
            ("Плівка харчова", "Cling film", "pcs", 160, V20, [("300 мм × 300 м", "300 mm × 300 m", 1)]),
        ]),
        ("Піддони", "Pallets", "Стандартні розміри для складу й перевезень.",
         "Standard sizes for storage and transport.", [
            ("Піддон дерев'яний EUR", "EUR wooden pallet", "pcs", 420, V20,
             [("новий", "new", 1), ("вживаний, 1 ґатунок", "used, grade 1", 0.6)]),
            ("Піддон пластиковий", "Plastic pallet", "pcs", 1450, V20,
             [("1200×800", "1200×800", 1), ("1200×1000", "1200×1000", 1.15)]),
        ]),
    ]),
    ("Канцелярські товари", "Office supplies", "OFF", ("Papirus", "OfficePro", "Scriba", "Format", "Linea", "Kredo",
     "Arkush", "Notum"), [
        ("Папір", "Paper", "Для лазерних і струменевих принтерів.", "For laser and inkjet printers.", [
            ("Папір офісний А4 80 г/м²", "Office paper A4 80 gsm", "pack", 245, V20,
             [("500 арк.", "500 sheets", 1), ("250 арк.", "250 sheets", 0.55)]),
            ("Папір для нотаток", "Sticky notes", "pack", 35, V20,
             [("76×76 мм", "76×76 mm", 1), ("38×51 мм", "38×51 mm", 0.6)]),
            ("Папір кольоровий А4", "Coloured paper A4", "pack", 190, V20,
             [("пастель, 100 арк.", "pastel, 100 sheets", 1), ("інтенсив, 100 арк.", "intense, 100 sheets", 1.2)]),
        ]),
        ("Письмове приладдя", "Writing instruments", "Упаковка для офісу.", "Office pack.", [
            ("Ручка кулькова", "Ballpoint pen", "pack", 120, V20,
             [("синя, 50 шт.", "blue, 50 pcs", 1), ("чорна, 50 шт.", "black, 50 pcs", 1),
              ("червона, 50 шт.", "red, 50 pcs", 1)]),
            ("Олівець графітний HB", "HB graphite pencil", "pack", 95, V20,
             [("з гумкою, 72 шт.", "with eraser, 72 pcs", 1)]),
            ("Маркер перманентний", "Permanent marker", "pcs", 28, V20, [("чорний", "black", 1), ("синій", "blue", 1)]),
            ("Текстовиділювач", "Highlighter", "pcs", 22, V20, [("жовтий", "yellow", 1), ("зелений", "green", 1)]),
        ]),
        ("Папки та архівація", "Folders and filing", "Для зберігання й архівування документів.",
         "For keeping and archiving documents.", [
            ("Папка-реєстратор", "Lever arch file", "pcs", 75, V20, [("50 мм", "50 mm", 1), ("75 мм", "75 mm", 1.1)]),
            ("Файли А4", "Sheet protectors A4", "pack", 85, V20, [("40 мкм, 100 шт.", "40 µm, 100 pcs", 1)]),
            ("Архівний бокс", "Archive box", "pcs", 48, V20, [("80 мм", "80 mm", 1), ("100 мм", "100 mm", 1.1)]),
        ]),
        ("Витратні матеріали для друку", "Printing supplies", "Сумісні з поширеними моделями принтерів.",
         "Compatible with common printer models.", [
            ("Картридж лазерний сумісний", "Compatible laser cartridge", "pcs", 690, V20,
             [("1500 стор.", "1,500 pages", 1), ("3000 стор.", "3,000 pages", 1.6)]),
            ("Тонер", "Toner", "pcs", 420, V20, [("100 г", "100 g", 1), ("1 кг", "1 kg", 6)]),
            ("Чорнило для принтера", "Printer ink", "pcs", 180, V20,
             [("чорне, 100 мл", "black, 100 ml", 1), ("кольорове, 100 мл", "colour, 100 ml", 1.1)]),
        ]),
        ("Офісне приладдя", "Desk accessories", "Для щоденної роботи в офісі.", "For everyday office work.", [
            ("Степлер", "Stapler", "pcs", 140, V20, [("№24/6", "No. 24/6", 1), ("№10", "No. 10", 0.6)]),
            ("Калькулятор настільний", "Desktop calculator", "pcs", 380, V20, [("12 розрядів", "12 digits", 1)]),
            ("Ножиці офісні", "Office scissors", "pcs", 65, V20, [("18 см", "18 cm", 1), ("21 см", "21 cm", 1.2)]),
        ]),
    ]),
    ("Харчові інгредієнти", "Food ingredients", "FOOD", ("Kolosok", "Nyva", "Solodar", "Olviya", "Maslenka", "Specia",
     "Cacaoline", "Milkom"), [
        ("Борошно і крупи", "Flour and cereals", "Для хлібопекарень, кондитерських і закладів харчування.",
         "For bakeries, confectioners and caterers.", [
            ("Борошно пшеничне вищого ґатунку", "Premium wheat flour", "kg", 16, V20,
             [("мішок 50 кг", "50 kg bag", 1), ("мішок 25 кг", "25 kg bag", 1.04)]),
            ("Борошно житнє", "Rye flour", "kg", 14, V20, [("мішок 50 кг", "50 kg bag", 1)]),
            ("Крупа гречана", "Buckwheat groats", "kg", 38, V20,
             [("мішок 25 кг", "25 kg bag", 1), ("пачка 1 кг", "1 kg pack", 1.2)]),
            ("Рис довгозернистий", "Long-grain rice", "kg", 52, V20, [("мішок 25 кг", "25 kg bag", 1)]),
        ]),
        ("Цукор і підсолоджувачі", "Sugar and sweeteners",
         "Українське виробництво, сертифікат якості до кожної партії.",
         "Made in Ukraine, quality certificate with every batch.", [
            ("Цукор білий кристалічний", "White crystal sugar", "kg", 27, V20,
             [("мішок 50 кг", "50 kg bag", 1), ("біг-бег 1 т", "1 t big bag", 0.93)]),
            ("Глюкозний сироп", "Glucose syrup", "kg", 42, V20, [("відро 25 кг", "25 kg bucket", 1)]),
            ("Цукрова пудра", "Icing sugar", "kg", 48, V20, [("мішок 25 кг", "25 kg bag", 1)]),
            ("Мед натуральний", "Natural honey", "kg", 180, V20,
             [("квітковий", "wildflower", 1), ("гречаний", "buckwheat", 1.2)]),
        ]),
        ("Олії та жири", "Oils and fats", "Для кулінарії й кондитерського виробництва.",
         "For cooking and confectionery.", [
            ("Олія соняшникова рафінована", "Refined sunflower oil", "l", 68, V20,
             [("5 л", "5 l", 1), ("10 л", "10 l", 0.97), ("1 л", "1 l", 1.1)]),
            ("Маргарин для випічки", "Baking margarine", "kg", 72, V20, [("брикет 10 кг", "10 kg block", 1)]),
            ("Масло вершкове 82%", "Butter 82%", "kg", 310, V20, [("моноліт 20 кг", "20 kg block", 1)]),
        ]),
        ("Молочна сировина", "Dairy ingredients", "Зберігати в сухому прохолодному місці.",
         "Keep in a cool dry place.", [
            ("Сухе знежирене молоко", "Skimmed milk powder", "kg", 120, V20, [("мішок 25 кг", "25 kg bag", 1)]),
            ("Сироватка суха", "Dry whey", "kg", 45, V20, [("мішок 25 кг", "25 kg bag", 1)]),
            ("Вершки 33%", "Cream 33%", "l", 165, V20, [("1 л", "1 l", 1), ("5 л", "5 l", 0.95)]),
        ]),
        ("Спеції та добавки", "Spices and additives", "Харчові добавки для виробництва.",
         "Food additives for production.", [
            ("Перець чорний мелений", "Ground black pepper", "kg", 420, V20, [("пакет 1 кг", "1 kg bag", 1)]),
            ("Сіль кухонна йодована", "Iodised table salt", "kg", 9, V20,
             [("мішок 50 кг", "50 kg bag", 1), ("пачка 1 кг", "1 kg pack", 1.5)]),
            ("Дріжджі сухі", "Dry yeast", "kg", 260, V20, [("вакуумна пачка 0,5 кг", "0.5 kg vacuum pack", 1)]),
            ("Лимонна кислота", "Citric acid", "kg", 85, V20, [("мішок 25 кг", "25 kg bag", 1)]),
        ]),
        ("Какао і шоколад", "Cocoa and chocolate", "Для кондитерських і кав'ярень.", "For confectioners and cafés.", [
            ("Какао-порошок алкалізований", "Alkalised cocoa powder", "kg", 290, V20,
             [("22–24%", "22–24%", 1), ("10–12%", "10–12%", 0.85)]),
            ("Шоколадна глазур", "Chocolate coating", "kg", 190, V20,
             [("чорна", "dark", 1), ("молочна", "milk", 1.05)]),
            ("Шоколад чорний 70% у калетах", "Dark chocolate 70% callets", "kg", 520, V20,
             [("пакет 5 кг", "5 kg bag", 1)]),
        ]),
    ]),
    ("Побутова хімія та прибирання", "Cleaning supplies", "CLN", ("Chysto", "Blysk", "Aqualine", "Sanit", "Prozora",
     "Klinex", "Dezikon", "Cleanpro"), [
        ("Миючі засоби", "Detergents", "Професійна серія для клінінгу.", "Professional cleaning range.", [
            ("Засіб для миття підлоги", "Floor cleaner", "pcs", 145, V20, [("5 л", "5 l", 1), ("1 л", "1 l", 0.3)]),
            ("Засіб для миття посуду", "Dishwashing liquid", "pcs", 120, V20, [("5 л", "5 l", 1), ("1 л", "1 l", 0.3)]),
            ("Пральний порошок", "Laundry powder", "pcs", 540, V20, [("9 кг", "9 kg", 1), ("3 кг", "3 kg", 0.4)]),
        ]),
        ("Дезінфекція", "Disinfection", "Зареєстровано в Україні.", "Registered in Ukraine.", [
            ("Антисептик для рук", "Hand sanitiser", "pcs", 210, V7, [("5 л", "5 l", 1), ("1 л", "1 l", 0.28)]),
            ("Дезінфекційний засіб, концентрат", "Disinfectant concentrate", "pcs", 380, V20,
             [("1 л", "1 l", 1), ("5 л", "5 l", 4.2)]),
        ]),
        ("Паперова гігієна", "Paper hygiene", "Для офісів, закладів харчування й готелів.",
         "For offices, caterers and hotels.", [
            ("Туалетний папір професійний", "Professional toilet paper", "pack", 310, V20,
             [("12 рулонів", "12 rolls", 1), ("джамбо, 6 рулонів", "jumbo, 6 rolls", 1.3)]),
            ("Рушники паперові Z-складання", "Z-fold paper towels", "pack", 520, V20, [("20 пачок", "20 packs", 1)]),
            ("Серветки паперові", "Paper napkins", "pack", 35, V20,
             [("24×24, 100 шт.", "24×24, 100 pcs", 1), ("33×33, 100 шт.", "33×33, 100 pcs", 1.4)]),
        ]),
        ("Інвентар для прибирання", "Cleaning equipment", "Для щоденного прибирання приміщень.", "For daily cleaning.",
         [
            ("Швабра з віджимом", "Mop with wringer", "pcs", 650, V20,
             [("плоска", "flat", 1), ("мотузкова", "string", 0.8)]),
            ("Відро пластикове", "Plastic bucket", "pcs", 95, V20, [("12 л", "12 l", 1), ("20 л", "20 l", 1.5)]),
            ("Мікрофіброва серветка", "Microfibre cloth", "pack", 110, V20, [("30×30, 5 шт.", "30×30, 5 pcs", 1)]),
        ]),
    ]),
    ("Спецодяг і засоби захисту", "Workwear and PPE", "PPE", ("Zakhyst", "Robotex", "Bastion", "Okhorona", "Protector",
     "Vartovyi", "Tverd", "Safeline"), [
        ("Спецодяг", "Workwear", "Зносостійка тканина, посилені шви.", "Hard-wearing fabric, reinforced seams.", [
            ("Костюм робочий", "Work suit", "pcs", 1250, V20,
             [("розмір 48–50", "size 48–50", 1), ("розмір 52–54", "size 52–54", 1),
              ("розмір 56–58", "size 56–58", 1.05)]),
            ("Куртка утеплена", "Insulated jacket", "pcs", 1850, V20,
             [("розмір 50–52", "size 50–52", 1), ("розмір 54–56", "size 54–56", 1)]),
            ("Жилет сигнальний", "Hi-vis vest", "pcs", 120, V20,
             [("жовтий", "yellow", 1), ("помаранчевий", "orange", 1)]),
        ]),
        ("Рукавички", "Gloves", "Для будівництва, складу й виробництва.",
         "For construction, warehouses and production.", [
            ("Рукавички трикотажні з ПВХ", "Knitted gloves with PVC dots", "pack", 110, V20,
             [("10 пар", "10 pairs", 1)]),
            ("Рукавички нітрилові медичні", "Nitrile medical gloves", "pack", 260, V7,
             [("розмір M, 100 шт.", "size M, 100 pcs", 1), ("розмір L, 100 шт.", "size L, 100 pcs", 1)]),
            ("Рукавички шкіряні", "Leather gloves", "pcs", 145, V20,
             [("комбіновані", "combined", 1), ("зимові", "winter", 1.4)]),
        ]),
        ("Робоче взуття", "Work footwear", "Антиковзна підошва.", "Non-slip sole.", [
            ("Черевики робочі з металевим носком", "Safety boots with steel toe cap", "pcs", 1650, V20,
             [("розмір 41", "size 41", 1), ("розмір 42", "size 42", 1), ("розмір 43", "size 43", 1), ("розмір 44",
              "size 44", 1)]),
            ("Чоботи гумові", "Rubber boots", "pcs", 480, V20,
             [("розмір 42", "size 42", 1), ("розмір 44", "size 44", 1)]),
        ]),
        ("Засоби індивідуального захисту", "Protective equipment", "Відповідає вимогам технічних регламентів.",
         "Complies with the technical regulations.", [
            ("Каска захисна", "Safety helmet", "pcs", 240, V20, [("біла", "white", 1), ("жовта", "yellow", 1)]),
            ("Окуляри захисні", "Safety glasses", "pcs", 95, V20,
             [("прозорі", "clear", 1), ("затемнені", "tinted", 1.1)]),
            ("Респіратор FFP2", "FFP2 respirator", "pack", 350, V7, [("20 шт.", "20 pcs", 1)]),
            ("Навушники протишумові", "Ear defenders", "pcs", 310, V20,
             [("SNR 27 дБ", "SNR 27 dB", 1), ("SNR 32 дБ", "SNR 32 dB", 1.3)]),
        ]),
    ]),
    ("Електротовари", "Electrical supplies", "ELC", ("Elektron", "Volta", "Svitlo", "Enerlux", "Kontakt", "Lumen",
     "Iskra", "Ampera"), [
        ("Кабель і провід", "Cable and wire", "Мідна жила, відповідає ДСТУ.",
         "Copper conductor, meets DSTU standards.", [
            ("Кабель ВВГ-нг", "Power cable VVG-ng", "m", 42, V20,
             [("3×1,5", "3×1.5", 0.65), ("3×2,5", "3×2.5", 1), ("3×4", "3×4", 1.55)]),
            ("Провід ПВС", "Flexible wire PVS", "m", 24, V20, [("2×1,5", "2×1.5", 1), ("3×2,5", "3×2.5", 1.9)]),
            ("Кабель вита пара UTP cat.5e", "UTP cat.5e twisted pair", "m", 11, V20,
             [("внутрішній", "indoor", 1), ("зовнішній", "outdoor", 1.3)]),
        ]),
        ("Освітлення", "Lighting", "Енергоощадні світлодіодні рішення.", "Energy-saving LED lighting.", [
            ("Світильник світлодіодний панельний", "LED panel light", "pcs", 520, V20,
             [("36 Вт", "36 W", 1), ("48 Вт", "48 W", 1.3)]),
            ("Лампа світлодіодна", "LED bulb", "pcs", 45, V20,
             [("10 Вт E27", "10 W E27", 1), ("15 Вт E27", "15 W E27", 1.3)]),
            ("Прожектор LED", "LED floodlight", "pcs", 690, V20, [("50 Вт", "50 W", 1), ("100 Вт", "100 W", 1.7)]),
        ]),
        ("Автоматика і захист", "Circuit protection", "Для житлових і промислових щитів.",
         "For residential and industrial boards.", [
            ("Автоматичний вимикач 1P", "Circuit breaker 1P", "pcs", 95, V20,
             [("16 А", "16 A", 1), ("25 А", "25 A", 1), ("32 А", "32 A", 1.05)]),
            ("ПЗВ 2P", "Residual current device 2P", "pcs", 650, V20,
             [("25 А, 30 мА", "25 A, 30 mA", 1), ("40 А, 30 мА", "40 A, 30 mA", 1.15)]),
            ("Щит розподільчий", "Distribution board", "pcs", 540, V20,
             [("12 модулів", "12 modules", 1), ("24 модулі", "24 modules", 1.6)]),
        ]),
        ("Електромонтажні вироби", "Wiring accessories", "Для прихованого й відкритого монтажу.",
         "For flush and surface mounting.", [
            ("Розетка подвійна", "Double socket", "pcs", 120, V20, [("біла", "white", 1), ("кремова", "cream", 1.05)]),
            ("Вимикач одноклавішний", "Single switch", "pcs", 75, V20,
             [("білий", "white", 1), ("кремовий", "cream", 1.05)]),
            ("Гофротруба ПВХ", "PVC corrugated conduit", "m", 7, V20, [("16 мм", "16 mm", 1), ("20 мм", "20 mm", 1.3)]),
        ]),
    ]),
    ("Інструменти і кріплення", "Tools and fasteners", "TLS", ("Maister", "Tekhnik", "Profiline", "Sila", "Vektor",
     "Halych", "Robust", "Titan"), [
        ("Електроінструмент", "Power tools", "Гарантія 24 місяці, сервіс в Україні.",
         "24-month warranty, serviced in Ukraine.", [
            ("Дриль-шуруповерт акумуляторний", "Cordless drill driver", "pcs", 3200, V20,
             [("12 В", "12 V", 1), ("18 В", "18 V", 1.4)]),
            ("Перфоратор", "Rotary hammer", "pcs", 4800, V20,
             [("SDS-plus, 800 Вт", "SDS-plus, 800 W", 1), ("SDS-max, 1500 Вт", "SDS-max, 1500 W", 2.1)]),
            ("Кутова шліфмашина", "Angle grinder", "pcs", 2100, V20,
             [("125 мм", "125 mm", 1), ("230 мм", "230 mm", 1.5)]),
        ]),
        ("Ручний інструмент", "Hand tools", "Інструментальна сталь, ергономічні ручки.",
         "Tool steel, ergonomic handles.", [
            ("Молоток слюсарний", "Machinist hammer", "pcs", 210, V20,
             [("500 г", "500 g", 1), ("800 г", "800 g", 1.3)]),
            ("Набір викруток", "Screwdriver set", "pcs", 380, V20, [("6 шт.", "6 pcs", 1), ("12 шт.", "12 pcs", 1.7)]),
            ("Рулетка вимірювальна", "Tape measure", "pcs", 140, V20, [("5 м", "5 m", 1), ("8 м", "8 m", 1.4)]),
            ("Рівень будівельний", "Spirit level", "pcs", 290, V20, [("60 см", "60 cm", 1), ("120 см", "120 cm", 1.6)]),
        ]),
        ("Витратні матеріали", "Consumables", "Для металу, бетону й дерева.", "For metal, concrete and wood.", [
            ("Диск відрізний по металу", "Metal cutting disc", "pack", 320, V20,
             [("125 мм, 25 шт.", "125 mm, 25 pcs", 1), ("230 мм, 25 шт.", "230 mm, 25 pcs", 2.2)]),
            ("Свердло по бетону", "Masonry drill bit", "pcs", 45, V20,
             [("6 мм", "6 mm", 1), ("8 мм", "8 mm", 1.2), ("10 мм", "10 mm", 1.5)]),
            ("Біта PH2", "PH2 bit", "pack", 120, V20,
             [("25 мм, 10 шт.", "25 mm, 10 pcs", 1), ("50 мм, 10 шт.", "50 mm, 10 pcs", 1.5)]),
        ]),
        ("Кріплення", "Fasteners", "Оцинкована сталь.", "Galvanised steel.", [
            ("Дюбель-цвях", "Nail plug", "pack", 190, V20,
             [("6×40, 100 шт.", "6×40, 100 pcs", 1), ("8×80, 100 шт.", "8×80, 100 pcs", 1.8)]),
            ("Анкер клиновий", "Wedge anchor", "pack", 340, V20,
             [("M8×75, 50 шт.", "M8×75, 50 pcs", 1), ("M10×100, 50 шт.", "M10×100, 50 pcs", 1.6)]),
            ("Шуруп по дереву", "Wood screw", "kg", 115, V20, [("3,5×35", "3.5×35", 1), ("4×50", "4×50", 0.95)]),
        ]),
    ]),
    ("Сантехніка та опалення", "Plumbing and heating", "PLB", ("Aquatek", "Teplo", "Vodograi", "Santek", "Hydrotec",
     "Termo", "Kran", "Potik"), [
        ("Труби і фітинги", "Pipes and fittings", "Для водопостачання, опалення й каналізації.",
         "For water supply, heating and drainage.", [
            ("Труба поліпропіленова PN20", "PP-R pipe PN20", "m", 38, V20,
             [("20 мм", "20 mm", 1), ("25 мм", "25 mm", 1.4), ("32 мм", "32 mm", 2.1)]),
            ("Труба каналізаційна ПВХ", "PVC sewer pipe", "m", 95, V20,
             [("50 мм", "50 mm", 0.5), ("110 мм", "110 mm", 1)]),
            ("Фітинг кутовий", "Elbow fitting", "pcs", 12, V20, [("20 мм", "20 mm", 1), ("32 мм", "32 mm", 1.9)]),
        ]),
        ("Запірна арматура", "Valves", "Робочий тиск до 25 бар.", "Working pressure up to 25 bar.", [
            ("Кран кульовий латунний", "Brass ball valve", "pcs", 240, V20,
             [('1/2"', '1/2"', 1), ('3/4"', '3/4"', 1.4), ('1"', '1"', 2.1)]),
            ("Зворотний клапан", "Check valve", "pcs", 310, V20, [('1/2"', '1/2"', 1), ('1"', '1"', 1.8)]),
            ("Фільтр грубого очищення", "Strainer", "pcs", 180, V20, [('1/2"', '1/2"', 1), ('3/4"', '3/4"', 1.3)]),
        ]),
        ("Опалення", "Heating", "Монтаж і пусконалагодження за окремою заявкою.",
         "Installation and commissioning on request.", [
            ("Радіатор сталевий панельний", "Steel panel radiator", "pcs", 2900, V20,
             [("500×800", "500×800", 1), ("500×1000", "500×1000", 1.2)]),
            ("Секція радіатора біметалевого", "Bimetal radiator section", "pcs", 420, V20,
             [("500 мм", "500 mm", 1), ("350 мм", "350 mm", 0.9)]),
            ("Котел газовий настінний", "Wall-mounted gas boiler", "pcs", 28500, V20,
             [("24 кВт", "24 kW", 1), ("32 кВт", "32 kW", 1.25)]),
        ]),
    ]),
    ("Агротовари", "Agricultural supplies", "AGR", ("Agrolan", "Nyvatek", "Urozhai", "Chornozem", "Agroprom",
     "Polissia", "Step", "Zlaky"), [
        ("Добрива", "Fertilisers", "Для основного внесення й підживлення.", "For base application and top dressing.", [
            ("Аміачна селітра", "Ammonium nitrate", "t", 21500, V20,
             [("біг-бег 500 кг", "500 kg big bag", 1), ("мішок 50 кг", "50 kg bag", 1.06)]),
            ("Карбамід", "Urea", "t", 24000, V20,
             [("біг-бег 500 кг", "500 kg big bag", 1), ("мішок 50 кг", "50 kg bag", 1.06)]),
            ("Нітроамофоска 16:16:16", "NPK 16:16:16", "t", 26500, V20, [("біг-бег 500 кг", "500 kg big bag", 1)]),
        ]),
        ("Засоби захисту рослин", "Crop protection", "Зареєстровано в Державному реєстрі пестицидів.",
         "Listed in the State Register of Pesticides.", [
            ("Гербіцид суцільної дії", "Total herbicide", "l", 320, V20,
             [("каністра 20 л", "20 l canister", 1), ("каністра 5 л", "5 l canister", 1.05)]),
            ("Фунгіцид системний", "Systemic fungicide", "l", 890, V20, [("каністра 5 л", "5 l canister", 1)]),
            ("Інсектицид контактний", "Contact insecticide", "l", 1150, V20,
             [("каністра 5 л", "5 l canister", 1), ("флакон 1 л", "1 l bottle", 1.1)]),
        ]),
        ("Насіння", "Seeds", "Сертифіковане насіння, схожість від 95%.", "Certified seed, germination from 95%.", [
            ("Насіння соняшнику, гібрид", "Sunflower seed, hybrid", "pack", 4200, V20,
             [("посівна одиниця", "seed unit", 1)]),
            ("Насіння кукурудзи", "Maize seed", "pack", 3800, V20, [("посівна одиниця", "seed unit", 1)]),
            ("Насіння пшениці озимої", "Winter wheat seed", "t", 14500, V20,
             [("еліта", "elite", 1.2), ("перша репродукція", "first generation", 1)]),
        ]),
    ]),
    ("Складське обладнання", "Warehouse equipment", "WRH", ("Skladpro", "Stelazh", "Metalbud", "Vantazh", "Kolo",
     "Rampa", "Logix", "Hardy"), [
        ("Стелажі", "Racking", "Збірна конструкція, навантаження вказано на полицю.",
         "Bolt-together frame, load per shelf as stated.", [
            ("Стелаж металевий полицевий", "Steel shelving unit", "pcs", 3400, V20,
             [("2000×1000×500", "2000×1000×500", 1), ("2500×1200×600", "2500×1200×600", 1.3)]),
            ("Секція палетного стелажа", "Pallet rack section", "pcs", 8900, V20,
             [("до 2 т на ярус", "up to 2 t per level", 1), ("до 3 т на ярус", "up to 3 t per level", 1.25)]),
        ]),
        ("Візки і рокли", "Trolleys and pallet trucks", "Гарантія 12 місяців.", "12-month warranty.", [
            ("Рокла гідравлічна 2,5 т", "Hand pallet truck 2.5 t", "pcs", 11500, V20,
             [("вилки 1150 мм", "1150 mm forks", 1)]),
            ("Візок платформний", "Platform trolley", "pcs", 3200, V20,
             [("до 300 кг", "up to 300 kg", 1), ("до 500 кг", "up to 500 kg", 1.35)]),
            ("Візок двоколісний", "Hand truck", "pcs", 1900, V20, [("до 200 кг", "up to 200 kg", 1)]),
        ]),
        ("Складська тара", "Storage containers", "Харчовий пластик, штабелюються.", "Food-grade plastic, stackable.", [
            ("Ящик пластиковий", "Plastic crate", "pcs", 210, V20,
             [("600×400×200", "600×400×200", 1), ("400×300×150", "400×300×150", 0.6)]),
            ("Контейнер для сипучих", "Bulk container", "pcs", 2600, V20,
             [("500 л", "500 l", 1), ("1000 л", "1000 l", 1.6)]),
        ]),
    ]),
    ("Послуги", "Services", "SRV", ("",), [
        ("Доставка", "Delivery", "Власним транспортом або перевізником.", "By our own vehicles or a carrier.", [
            ("Доставка по місту", "City delivery", "service", 800, V20,
             [("до 1,5 т", "up to 1.5 t", 1), ("до 5 т", "up to 5 t", 2.5)]),
            ("Доставка по Україні", "Delivery across Ukraine", "service", 2400, V20,
             [("збірний вантаж", "groupage", 1), ("окреме авто", "dedicated vehicle", 4)]),
        ]),
        ("Монтаж і сервіс", "Installation and service", "Виконують сертифіковані фахівці.",
         "Done by certified technicians.", [
            ("Монтаж обладнання", "Equipment installation", "hour", 650, V20,
             [("робочий день", "working hours", 1), ("вихідний день", "weekend", 1.5)]),
            ("Сервісне обслуговування", "Maintenance visit", "service", 1800, V20,
             [("планове", "scheduled", 1), ("термінове", "urgent", 1.6)]),
        ]),
        ("Консультації та навчання", "Consulting and training", "На об'єкті клієнта або онлайн.",
         "At the client's site or online.", [
            ("Консультація технолога", "Technologist consultation", "hour", 900, V20,
             [("онлайн", "online", 1), ("на об'єкті", "on site", 1.4)]),
            ("Навчання персоналу", "Staff training", "hour", 1200, VEX, [("група до 10 осіб", "group of up to 10", 1)]),
        ]),
    ]),
]  # fmt: skip
SERIES = [
    ("", "", 1.0),
    (" Pro", " Pro", 1.25),
    (" Eco", " Eco", 0.85),
    (" Plus", " Plus", 1.1),
    (" Max", " Max", 1.35),
]

# Quantities per unit, in thousandths (QUANTITY has 3 decimal places), by how often they are ordered.
QUANTITIES: dict[str, list[tuple[int, float]]] = {
    "pcs": [(q * 1000, w) for q, w in [(1, 8), (2, 8), (3, 6), (5, 8), (10, 10), (12, 4), (20, 8), (24, 3), (25, 5),
                                       (30, 4), (40, 4), (50, 6), (60, 2), (80, 2), (100, 4), (150, 2), (200, 2)]],
    "pack": [(q * 1000, w) for q, w in [(1, 10), (2, 10), (3, 6), (5, 10), (10, 10), (15, 3), (20, 6), (30, 3),
     (50, 2)]],
    "kg": [(q * 1000, w) for q, w in [(5, 4), (10, 6), (25, 10), (50, 10), (100, 8), (150, 3), (200, 5), (250, 3),
                                      (500, 4), (1000, 2)]] + [(12_500, 2), (37_500, 1)],
    "t": [(q, w) for q, w in [(500, 4), (1000, 10), (1500, 4), (2000, 8), (3000, 4), (5000, 5), (10_000, 3),
                              (20_000, 2), (2_750, 1)]],
    "l": [(q * 1000, w) for q, w in [(5, 6), (10, 10), (20, 8), (40, 4), (50, 4), (100, 4), (200, 2)]] + [(2_500, 2)],
    "m": [(q * 1000, w) for q, w in [(10, 6), (20, 6), (50, 10), (100, 10), (150, 4), (200, 6), (300, 3), (500, 3)]]
    + [(12_500, 1), (27_300, 1)],
    "m2": [(q * 1000, w) for q, w in [(10, 4), (20, 6), (40, 6), (60, 6), (100, 10), (150, 6), (250, 4), (400, 2)]]
    + [(37_500, 2), (82_250, 1)],
    "hour": [(q * 1000, w) for q, w in [(1, 6), (2, 8), (4, 8), (8, 8), (16, 4), (40, 2)]] + [(1_500, 2)],
    "service": [(1000, 20), (2000, 3)],
}  # fmt: skip
LINE_DISCOUNTS = [(0, 60), (200, 6), (300, 8), (500, 12), (700, 5), (1000, 6), (1250, 1), (1500, 2)]  # hundredths of %

# --- Deals ----------------------------------------------------------------------------------------------

DEAL_TITLES = [
    "Поставка: {item} — {company}",
    "{top}: річна потреба — {company}",
    "Пробна партія: {item} — {company}",
    "Комплексне постачання ({top_lower}) — {company}",
    "Сезонне замовлення: {item} — {company}",
    "Розширення асортименту: {top_lower} — {company}",
    "Заміна постачальника: {item} — {company}",
]
TENDER_TITLES = ["Тендер: {top_lower} — {company}", "Публічна закупівля: {item} — {company}",
                 "Тендер на постачання: {item} — {company}"]  # fmt: skip
DEAL_SOURCES = [(DealSource.WEBSITE, 18), (DealSource.REFERRAL, 14), (DealSource.EXHIBITION, 8),
                (DealSource.COLD_CALL, 16), (DealSource.CAMPAIGN, 10), (DealSource.REPEAT, 24), (DealSource.OTHER, 4),
                ("", 6)]  # fmt: skip
# Open stages of the default pipeline, by how many deals sit in each (earlier stages hold more).
OPEN_STAGE_WEIGHTS = [35, 27, 22, 16]
LOSS_COMMENTS: dict[str, list[str]] = {
    "Ціна": ["Конкурент запропонував ціну на 7% нижчу.", "Клієнт вважає нашу ціну завищеною для такого обсягу.",
             "Не змогли дати знижку, яку просили.", "Бюджет клієнта на 15% менший за нашу пропозицію."],
    "Обрали конкурента": ["Обрали постачальника з коротшими строками поставки.",
                          "Працюють із конкурентом за рамковим договором.",
                          "Конкурент запропонував відстрочку платежу 60 днів.",
                          "Рішення ухвалив головний офіс на користь іншого постачальника."],
    "Немає бюджету": ["Бюджет на закупівлю перенесли на наступний рік.",
                      "Заморозили всі закупівлі до кінця кварталу.", "Фінансування проєкту скасовано."],
    "Немає потреби": ["Клієнт вирішив залишити чинне обладнання.", "Проєкт, під який була потреба, закрито.",
                      "Потребу закрили із залишків на складі."],
    "Не вдалося зв'язатися": ["Після надсилання КП контакт не відповідає.",
                              "Контактна особа звільнилася, нової не знайшли.",
                              "Три спроби зв'язатися без результату."],
    "Терміни": ["Потрібна поставка за 3 дні, ми можемо лише за 2 тижні.",
                "Не встигли підготувати тендерну документацію.", "Клієнт не міг чекати на виробництво партії."],
}  # fmt: skip
LOSS_WEIGHTS = {"Ціна": 30, "Обрали конкурента": 25, "Немає бюджету": 15, "Немає потреби": 10,
                "Не вдалося зв'язатися": 12, "Терміни": 8}  # fmt: skip
COMPETITORS = ["ТОВ «Будпостач»", "ТОВ «Мегатрейд»", "ПП «Укрпостачання»", "ТОВ «Офіс-Центр»", "ТОВ «Пакмаркет»",
               "ТОВ «Агроресурс»", "ТОВ «Техносвіт»", "ТОВ «Оптторг Плюс»", "ТОВ «Західпостач»",
               "ТОВ «Східний склад»", "ТОВ «Профсервіс»", "ПП «Галтрейд»"]  # fmt: skip

# --- Orders ---------------------------------------------------------------------------------------------

# Per failure reason (migration 0002's names): the status it ends in, the steps of FLOW it can happen at
# (cancelled only before shipping, as ORDER_TRANSITIONS allows), and what the manager wrote.
FAILURES: dict[str, tuple[str, range, list[str]]] = {
    "Немає на складі": (OrderStatus.CANCELLED, range(0, 3), ["Товар закінчився, наступна поставка за 3 тижні.",
                                                             "Постачальник зірвав поставку, товару немає.",
                                                             "Немає потрібного фасування."]),
    "Оплату не отримано": (OrderStatus.FAILED, range(1, 3), ["Рахунок не сплачено протягом 10 банківських днів.",
                                                             "Клієнт не підтвердив оплату, резерв знято.",
                                                             "Оплата повернулася: помилка в реквізитах."]),
    "Клієнт відмовився": (OrderStatus.CANCELLED, range(0, 3), ["Клієнт знайшов дешевше.",
                                                               "Клієнт скасував замовлення: змінилися плани.",
                                                               "Клієнт передумав після погодження рахунку."]),
    "Доставка не вдалася": (OrderStatus.FAILED, range(3, 5), ["Перевізник пошкодив вантаж.",
                                                              "Отримувача не було за адресою, вантаж повернуто.",
                                                              "Машина не змогла заїхати на об'єкт."]),
    "Помилка в замовленні": (OrderStatus.CANCELLED, range(0, 2), ["Помилка в кількості, оформлено нове замовлення.",
                                                                  "Неправильний артикул, замовлення переоформлено.",
                                                                  "Дубль замовлення."]),
}  # fmt: skip
ORDER_COMMENTS = ["", "", "", "", "", "", "Доставка до 12:00.", "Передзвонити перед відвантаженням.",
                  "Розвантаження силами клієнта.", "Оригінали документів — поштою.",
                  "Потрібен сертифікат якості до партії.", "В'їзд на територію за перепусткою."]  # fmt: skip
# The flow of a successful order; failures leave it at one of these steps.
FLOW = [OrderStatus.NEW, OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS, OrderStatus.SHIPPED, OrderStatus.DELIVERED,
        OrderStatus.COMPLETED]  # fmt: skip
FULL_HISTORY_DAYS = 60  # orders younger than this get every status row, older ones the first and the last
# Days between the order and its expected delivery, and between expected and actual delivery (late is positive).
LEAD_DAYS = [(2, 5), (3, 10), (5, 14), (7, 14), (10, 8), (14, 8), (21, 4), (30, 2)]
DELAYS = [(-3, 4), (-2, 6), (-1, 10), (0, 45), (1, 10), (2, 7), (3, 5), (5, 5), (8, 4), (14, 3), (25, 1)]

# --- Suppliers ---------------------------------------------------------------------------------------------

DELIVERY_TERMS = ["Доставка власним транспортом по області безкоштовно від 20 000 грн.",
                  "Самовивіз зі складу або доставка перевізником за рахунок покупця.",
                  "DAP склад покупця (Інкотермс 2020).", "FCA склад постачальника (Інкотермс 2020).",
                  "Доставка «Новою поштою» за тарифами перевізника.",
                  "Доставка на об'єкт маніпулятором, розвантаження за окрему плату."]  # fmt: skip
PAYMENT_TERMS = ["Передоплата 100%.", "Відстрочка платежу 14 календарних днів.",
                 "50% передоплата, 50% після поставки.", "Відстрочка 30 днів для постійних покупців.",
                 "Оплата протягом 5 банківських днів після поставки."]  # fmt: skip
# Reliability of a supplier: (weight, share on time, share delivered in part, late delays in days).
RELIABILITY = [(40, 0.9, 0.03, (1, 2, 3)), (40, 0.7, 0.1, (1, 2, 3, 5, 7)), (20, 0.45, 0.25, (2, 4, 7, 10, 14, 21))]
USD_RATE, EUR_RATE = 41.5, 45.0

# The service level a contract buys (service.SlaPolicy by level), by its place: no draw from the rng, so adding
# the column changed no other seeded row.
CONTRACT_LEVELS = ("standard", "basic", "standard", "premium", "standard", "basic", "standard", "standard")

# --- Prices ------------------------------------------------------------------------------------------------

CUSTOMER_GROUPS = [("Дилери", 0.88), ("Оптові покупці", 0.93), ("Ключові клієнти", 0.9)]
LOYALTY_RULES = [
    ("Постійний клієнт: 12 замовлень за рік", 12, None, 3),
    ("Великий обсяг: від 1 млн грн за рік", None, 1_000_000, 5),
]


# --- Helpers ------------------------------------------------------------------------------------------------


def _money(kopecks: int) -> str:
    return f"{kopecks // 100}.{kopecks % 100:02d}"


def _quantity(thousandths: int) -> str:
    return f"{thousandths // 1000}.{thousandths % 1000:03d}"


def _half_up(numerator: int, denominator: int) -> int:
    """round(numerator / denominator) half up, for numbers ≥ 0."""
    return (2 * numerator + denominator) // (2 * denominator)


def line_amounts(quantity: int, price: int, discount: int, vat: int) -> tuple[int, int, int]:
    """(gross, net, VAT) in kopecks of a line: quantity in thousandths, price in kopecks, discount and VAT
    rate in hundredths of a percent. The rule of deals.services_orders.line_amounts, in integers."""
    product = quantity * price
    net = _half_up(product * (10_000 - discount), 10_000_000)
    return _half_up(product, 1000), net, _half_up(net * vat, 10_000)


def _copy(table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    if not rows:
        return
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


class _Batch:
    """Rows of several tables built together (an order, its lines and its history), written with one COPY
    per table each time `flush` is called: a connection runs one COPY at a time."""

    def __init__(self, tables: dict[str, Sequence[str]]) -> None:
        self.columns = tables
        self.rows: dict[str, list[tuple]] = {table: [] for table in tables}

    def flush(self) -> None:
        for table, rows in self.rows.items():
            _copy(table, self.columns[table], rows)
            rows.clear()


class _Time:
    """Seconds relative to the anchor (today 00:00 UTC; negative is the past) as COPY text."""

    def __init__(self, clock: _Clock) -> None:
        self.clock = clock
        self.anchor_date = clock.anchor.date()
        self._dates: dict[int, str] = {}
        # Kyiv's UTC offset per UTC day (the hour of a DST switch is close enough for demo data).
        self._offsets: dict[int, int] = {}
        self._zone = ZoneInfo(settings.TIME_ZONE)

    def at(self, t: int) -> str:
        return self.clock.ago(-t)

    def date(self, day: int) -> str:
        text = self._dates.get(day)
        if text is None:
            text = self._dates[day] = (self.anchor_date + timedelta(days=day)).isoformat()
        return text

    def local_day(self, t: int) -> int:
        """The Kyiv calendar day (relative to the anchor's date) of the instant t."""
        utc_day = t // DAY
        offset = self._offsets.get(utc_day)
        if offset is None:
            noon = self.clock.anchor + timedelta(days=utc_day, hours=12)
            offset = self._offsets[utc_day] = int(noon.astimezone(self._zone).utcoffset().total_seconds())
        return (t + offset) // DAY

    def year_starts(self, years: range) -> list[tuple[int, int]]:
        """(t of 1 January 00:00 Kyiv, year) for the years."""
        return [
            (int((datetime(year, 1, 1, tzinfo=self._zone) - self.clock.anchor).total_seconds()), year) for year in years
        ]


@dataclass
class _Base:
    """The seeded users and companies, by company index (id = first_company_id + index)."""

    first_company_id: int
    owners: array  # user id per company
    teams: list[int | None]
    ages: array  # seconds between the company's creation and the anchor
    names: list[str]  # short names, for deal titles
    roles: list[list[str]]
    first_person: array
    people_count: array
    customers: list[int]  # companies with the customer role (orders, most deals)
    prospects: list[int]
    manager_companies: list[int]  # the bench manager's own companies
    sales_companies: list[int]  # the second demo representative's (sales2@)

    def person(self, c: int, rnd: float, share: float = 0.75) -> int | None:
        count = self.people_count[c]
        if not count or rnd >= share:
            return None
        return self.first_person[c] + int(rnd / share * count)


def _load_base(ctx: SeedContext, anchor: datetime) -> _Base:
    company_ids = ctx.shared["company_ids"]
    owners = ctx.shared["company_owner_ids"]
    users: list[User] = ctx.shared["users"]
    by_email = {u.email: u.pk for u in users}
    teams: list[int | None] = []
    ages = array("q")
    names: list[str] = []
    roles: list[list[str]] = []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT team_id, EXTRACT(EPOCH FROM %s - created_at)::bigint, short_name, roles FROM contacts_company
            WHERE id BETWEEN %s AND %s ORDER BY id
            """,
            [anchor, company_ids[0], company_ids[-1]],
        )
        for team_id, age, name, company_roles in cursor.fetchall():
            teams.append(team_id)
            ages.append(age)
            names.append(name)
            roles.append(company_roles)
    manager, sales2 = by_email[BENCH_MANAGER_EMAIL], by_email["sales2@example.com"]
    return _Base(
        first_company_id=company_ids[0],
        owners=owners,
        teams=teams,
        ages=ages,
        names=names,
        roles=roles,
        first_person=ctx.shared["company_first_person_id"],
        people_count=ctx.shared["company_people_count"],
        customers=[c for c, r in enumerate(roles) if "customer" in r],
        prospects=[c for c, r in enumerate(roles) if "prospect" in r and "customer" not in r],
        manager_companies=[c for c, owner in enumerate(owners) if owner == manager],
        sales_companies=[c for c, owner in enumerate(owners) if owner == sales2],
    )


# --- Catalogue ------------------------------------------------------------------------------------------------


@dataclass
class _Catalogue:
    first_id: int
    top_ids: list[int]  # top-level category ids, in CATALOGUE order
    leaf_ids: list[int]
    units: list[str]
    prices: array  # kopecks
    vats: array  # hundredths of a percent (0 for goods not subject to VAT)
    tops: array  # top category index per product
    items: list[str]  # the item's name (lower case), for deal titles
    by_top: list[list[int]]  # product indices per top category
    goods_tops: list[int]  # top categories of goods (not services)
    services: list[int]  # product indices of services
    n: int = 0


def _round_price(uah: float) -> int:
    """A shop price in kopecks: whole hryvnias from 100, ten-kopeck steps below."""
    if uah >= 100:
        return round(uah) * 100
    if uah >= 10:
        return round(uah * 10) * 10
    return max(1, round(uah * 100))


def _seed_catalogue(ctx: SeedContext, time_: _Time, size: _Size) -> _Catalogue:
    rng = ctx.rng
    created = time_.at(-3 * 365 * DAY)
    top_ids: list[int] = []
    leaf_ids: list[int] = []
    leaves: list[tuple[int, int, tuple]] = []  # (top index, leaf id, leaf)
    for t, (name_uk, name_en, _prefix, _brands, top_leaves) in enumerate(CATALOGUE):
        top = Category.objects.create(name_uk=name_uk, name_en=name_en)
        top_ids.append(top.pk)
        children = Category.objects.bulk_create(
            Category(parent=top, name_uk=leaf[0], name_en=leaf[1]) for leaf in top_leaves
        )
        for child, leaf in zip(children, top_leaves, strict=True):
            leaf_ids.append(child.pk)
            leaves.append((t, child.pk, leaf))

    # Products: an equal share per leaf, capped by what the leaf can make (services are few).
    combos = []
    for t, _leaf_id, leaf in leaves:
        brands = CATALOGUE[t][3]
        count = sum(len(item[5]) for item in leaf[4]) * len(brands) * (len(SERIES) if brands != ("",) else 1)
        combos.append(count)
    quotas = [0] * len(leaves)
    remaining = size.products
    if size.products > sum(combos):
        raise ValueError(f"the catalogue makes at most {sum(combos)} products")
    while remaining:
        open_leaves = [i for i in range(len(leaves)) if quotas[i] < combos[i]]
        share = max(1, remaining // len(open_leaves))
        for i in open_leaves:
            give = min(share, combos[i] - quotas[i], remaining)
            quotas[i] += give
            remaining -= give
            if not remaining:
                break

    catalogue = _Catalogue(
        first_id=0, top_ids=top_ids, leaf_ids=leaf_ids, units=[], prices=array("q"),
        vats=array("l"), tops=array("l"), items=[], by_top=[[] for _ in CATALOGUE], goods_tops=[], services=[],
    )  # fmt: skip
    catalogue.goods_tops = [t for t, top in enumerate(CATALOGUE) if top[3] != ("",)]
    first_id = catalogue.first_id = _reserve_ids("deals_product", size.products)
    rows: list[tuple] = []
    sku_counters: dict[str, int] = {}
    for (t, leaf_id, leaf), quota in zip(leaves, quotas, strict=True):
        _uk, _en, prefix, brands, _leaves = CATALOGUE[t]
        _leaf_uk, _leaf_en, desc_uk, desc_en, items = leaf
        options = []
        series_list = SERIES if brands != ("",) else SERIES[:1]
        for series in series_list:
            block = [(series, item, variant, brand) for item in items for variant in item[5] for brand in brands]
            rng.shuffle(block)
            options += block
        for series, item, variant, brand in options[:quota]:
            item_uk, item_en, unit, price, vat, _variants = item
            brand_factor = 0.85 + (sum(map(ord, brand)) % 9) * 0.05
            price_kop = _round_price(price * variant[2] * series[2] * brand_factor * (0.95 + rng.random() * 0.1))
            mark = f" {brand}{series[0]}" if brand else ""
            name_uk = f"{item_uk}{mark}, {variant[0]}"
            name_en = f"{item_en}{(' ' + brand + series[1]) if brand else ''}, {variant[1]}"
            description_uk = f"{item_uk}, {variant[0]}. {desc_uk}" + (f" Торгова марка {brand}." if brand else "")
            description_en = f"{item_en}, {variant[1]}. {desc_en}" + (f" Brand: {brand}." if brand else "")
            number = sku_counters[prefix] = sku_counters.get(prefix, 0) + 1
            index = len(rows)
            stock = None
            if unit not in ("service", "hour") and rng.random() < 0.7:
                stock = _quantity(int(rng.random() * 2000) * 1000)
            active = rng.random() > 0.03
            rows.append((
                first_id + index, created, created, f"{prefix}-{number:05d}", name_uk, name_en, description_uk,
                description_en, leaf_id, unit, _money(price_kop), vat, active, stock, "",
            ))  # fmt: skip
            catalogue.units.append(unit)
            catalogue.prices.append(price_kop)
            catalogue.vats.append(max(0, round(float(vat) * 100)))
            catalogue.tops.append(t)
            catalogue.items.append(item_uk[0].lower() + item_uk[1:])
            if unit in ("service", "hour"):
                catalogue.services.append(index)
            else:
                catalogue.by_top[t].append(index)
    # The first products (several offers each, the bench's product page) are spread over the categories
    # instead of being the first leaf's, and active: rows go in a shuffled order, ids follow it.
    order = list(range(len(rows)))
    rng.shuffle(order)
    remap = {old: new for new, old in enumerate(order)}
    rows = [
        (first_id + new, *rows[old][1:12], new < size.offer_products or rows[old][12], *rows[old][13:])
        for new, old in enumerate(order)
    ]
    for name in ("units", "items"):
        values = getattr(catalogue, name)
        setattr(catalogue, name, [values[old] for old in order])
    for name in ("prices", "vats", "tops"):
        values = getattr(catalogue, name)
        setattr(catalogue, name, array(values.typecode, (values[old] for old in order)))
    catalogue.by_top = [sorted(remap[i] for i in products) for products in catalogue.by_top]
    catalogue.services = sorted(remap[i] for i in catalogue.services)
    catalogue.n = len(rows)
    _copy(
        "deals_product",
        ["id", "created_at", "updated_at", "sku", "name_uk", "name_en", "description_uk", "description_en",
         "category_id", "unit", "base_price", "vat_rate", "is_active", "stock_quantity", "image"],
        rows,
    )  # fmt: skip
    return catalogue


class _Lines:
    """Lines of deals and orders: (product index, quantity in thousandths, price in kopecks, discount in
    hundredths of a percent). A deal's lines come from its own seeded generator, so the order made from a
    won deal gets the same lines without keeping them in memory."""

    def __init__(self, catalogue: _Catalogue) -> None:
        self.catalogue = catalogue
        self.quantities = {unit: _weighted_table(options, size=200) for unit, options in QUANTITIES.items()}
        self.discounts = _weighted_table(LINE_DISCOUNTS, size=100)
        self.counts = _weighted_table([(1, 30), (2, 25), (3, 18), (4, 11), (5, 7), (6, 4), (7, 3), (8, 2)], size=100)
        self.deal_rng = random.Random()

    def preferred_top(self, company: int) -> int:
        goods = self.catalogue.goods_tops
        return goods[(company * 2_654_435_761 >> 7) % len(goods)]

    def make(
        self, rnd: Callable[[], float], company: int, count: int, discount: int
    ) -> list[tuple[int, int, int, int]]:
        """`count` lines at most (a product drawn twice is left out), mostly of the company's own trade."""
        cat = self.catalogue
        by_top, goods, quantities = cat.by_top, cat.goods_tops, self.quantities
        own = by_top[self.preferred_top(company)] or by_top[goods[0]]
        lines = []
        seen = set()
        for _ in range(count):
            r = rnd()
            if r < 0.75:
                products = own
            elif r < 0.93 or not cat.services:
                products = by_top[goods[int(rnd() * len(goods))]] or own
            else:
                products = cat.services
            product = products[int(rnd() * len(products))]
            if product in seen:
                continue
            seen.add(product)
            options = quantities[cat.units[product]]
            price = cat.prices[product]
            if rnd() < 0.15:  # a negotiated price, a little below the list
                price = max(1, price * (100 - int(rnd() * 8)) // 100)
            line_discount = discount if discount else self.discounts[int(rnd() * len(self.discounts))]
            lines.append((product, options[int(rnd() * len(options))], price, line_discount))
        return lines

    def for_deal(self, number: int, company: int) -> list[tuple[int, int, int, int]]:
        """The lines of the deal `number` (its place in the seeded deals, not its id: ids differ between runs)."""
        rng = self.deal_rng
        rng.seed(number)
        return self.make(rng.random, company, self.counts[int(rng.random() * len(self.counts))], 0)


# --- Deals ---------------------------------------------------------------------------------------------------


@dataclass
class _WonDeals:
    """Won deals with lines that became orders: deal id, company index, closing time, person."""

    first_id: int  # of all seeded deals: a deal's number is its id minus this
    ids: array
    companies: array
    closed: array
    people: list[int | None]


def _pick_company(random_: Callable[[], float], pool: list[int], ages: array, existed: int, skew: float) -> int:
    """A company of `pool` (earlier ones more often: a few big clients, many small ones) that existed
    `existed` seconds before the anchor: the time is drawn first, so business grows evenly over the
    years instead of crowding into the months after the youngest companies were created."""
    n = len(pool)
    for _ in range(50):
        c = pool[int(n * random_() ** skew)]
        if ages[c] >= existed:
            return c
    return max(pool, key=ages.__getitem__)


def _deal_plan(ctx: SeedContext, base: _Base, size: _Size, now: int) -> list[int]:
    """(creation time, company, kind, forced lines) of every deal, packed in ints and sorted by time.

    Kinds: 0 open in the default pipeline, 1 open tender, 2 closed, 3 closed tender.
    """
    rng = ctx.rng
    random_ = rng.random
    offset = 10 * 365 * DAY
    eligible = base.customers + base.prospects
    rng.shuffle(eligible)
    plan: list[int] = []

    def when(kind: int, window: int) -> int:
        """Open deals are of the last six months (recent ones more), closed ones of three years."""
        if kind < 2:
            return now - HOUR - int(min(window, 180 * DAY) * random_() ** 1.4)
        return -int(3 * DAY + (min(window, 3 * 365 * DAY) - 3 * DAY) * random_() ** 1.1)

    def add(c: int, kind: int, forced: bool = False) -> None:
        t = when(kind, base.ages[c])
        plan.append((((t + offset) << 22 | c) << 2 | kind) << 1 | forced)

    # The demo client and the demo team's companies first: their cards and the bench pages need open deals
    # with lines, won and lost ones, at every size.
    special = [(0, 0, True)] * 6 + [(0, 1, True)] * 2 + [(0, 2, False)] * (size.demo_deals - 8)
    for c in base.manager_companies[:5] + base.sales_companies[:2]:
        special += [(c, 0, True)] * 3 + [(c, 2, True)] * 2 + [(c, 2, False)] * 2
    counts = [size.open_deals, size.open_tender_deals]
    for c, kind, forced in special:
        add(c, kind, forced)
        if kind < 2:
            counts[kind] -= 1
    open_total = counts[0] + counts[1]
    for n in range(size.deals - len(special)):
        open_kind = 0 if n < counts[0] else 1
        kind = open_kind if n < open_total else 3 if random_() < 0.06 else 2
        t = when(kind, 3 * 365 * DAY)
        c = _pick_company(random_, eligible, base.ages, HOUR - t, 1.3)
        plan.append((((t + offset) << 22 | c) << 2 | kind) << 1)
    plan.sort()
    return plan


def _seed_deals(
    ctx: SeedContext, time_: _Time, base: _Base, catalogue: _Catalogue, lines: _Lines, size: _Size, now: int
) -> tuple[range, _WonDeals]:
    rng = ctx.rng
    random_ = rng.random
    default = Pipeline.objects.get(name=DEFAULT_PIPELINE)
    # get_or_create: tests empty a seeded database through its users, and pipelines do not belong to anyone.
    tender, _created = Pipeline.objects.get_or_create(name=TENDER_PIPELINE, defaults={"order": 10})
    for n, (name, probability, is_won, is_lost) in enumerate(TENDER_STAGES):
        Stage.objects.get_or_create(
            pipeline=tender,
            name=name,
            defaults={"order": n, "probability": probability, "is_won": is_won, "is_lost": is_lost},
        )
    pipelines = []
    for pipeline in (default, tender):
        stages = list(Stage.objects.filter(pipeline=pipeline).order_by("order"))
        open_stages = [(s.pk, s.probability) for s in stages if not s.is_won and not s.is_lost]
        won = next(s.pk for s in stages if s.is_won)
        lost = next(s.pk for s in stages if s.is_lost)
        weights = OPEN_STAGE_WEIGHTS[: len(open_stages)]
        table = _weighted_table([(i, w) for i, w in enumerate(weights)], size=100)
        pipelines.append((pipeline.pk, open_stages, won, lost, table))
    reasons = list(LossReason.objects.filter(is_active=True).values_list("pk", "name"))
    reason_table = _weighted_table([(r, LOSS_WEIGHTS.get(r[1], 5)) for r in reasons], size=200)
    sources = _weighted_table(DEAL_SOURCES, size=100)
    tops_uk = [top[0] for top in CATALOGUE]

    plan = _deal_plan(ctx, base, size, now)
    first_id = _reserve_ids("deals_deal", len(plan))
    won = _WonDeals(first_id=first_id, ids=array("q"), companies=array("l"), closed=array("q"), people=[])
    batch = _Batch({
        "deals_deal": ["id", "created_at", "updated_at", "title", "company_id", "person_id", "owner_id", "team_id",
                       "pipeline_id", "stage_id", "amount", "has_lines", "probability", "expected_close_date", "source",
                       "status", "loss_reason_id", "loss_comment", "competitor", "closed_at", "stage_changed_at",
                       "version"],
        "deals_dealline": ["created_at", "updated_at", "quantity", "price", "discount_percent", "deal_id",
                           "product_id"],
        "deals_dealstagechange": ["deal_id", "from_stage_id", "to_stage_id", "changed_by_id", "changed_at"],
    })  # fmt: skip
    deals, deal_lines, changes = (batch.rows[t] for t in batch.columns)
    offset = 10 * 365 * DAY
    product_ids = catalogue.first_id
    at, date, local_day = time_.at, time_.date, time_.local_day
    progress = tqdm(total=len(plan), desc="deals_deal", unit="rows", disable=not ctx.progress, leave=False)
    for n, key in enumerate(plan):
        forced = key & 1
        kind = key >> 1 & 3
        c = key >> 3 & 0x3FFFFF
        t = (key >> 25) - offset
        deal_id = first_id + n
        owner, team = base.owners[c], base.teams[c]
        person = base.person(c, random_())
        pipeline_id, open_stages, won_stage, lost_stage, stage_table = pipelines[kind & 1]
        created = at(t)
        is_open = kind < 2
        has_lines = bool(forced) or random_() < (0.6 if is_open else 0.25)
        deal_lines_ = lines.for_deal(n, c) if has_lines else []
        if deal_lines_:
            amount = sum(line_amounts(q, p, d, 0)[1] for _product, q, p, d in deal_lines_)
            item = catalogue.items[deal_lines_[0][0]]
            top = tops_uk[catalogue.tops[deal_lines_[0][0]]]
        else:
            amount = int(5_000 * 100 * (1 + 60 * random_() ** 3)) // 10_000 * 10_000
            top_index = lines.preferred_top(c) if random_() < 0.7 else int(random_() * len(catalogue.goods_tops))
            top = tops_uk[top_index]
            products = catalogue.by_top[top_index] or catalogue.by_top[catalogue.goods_tops[0]]
            item = catalogue.items[products[int(random_() * len(products))]] if products else top.lower()
        titles = TENDER_TITLES if kind & 1 else DEAL_TITLES
        title = titles[int(random_() * len(titles))].format(
            item=item, top=top, top_lower=top[0].lower() + top[1:], company=base.names[c]
        )
        source = sources[int(random_() * len(sources))]
        reason = loss_comment = competitor = ""
        reason_id = closed_at = None
        created_day = local_day(t)
        changes.append((deal_id, None, open_stages[0][0], owner, created))
        if is_open:
            status = DealStatus.OPEN
            reached = stage_table[int(random_() * len(stage_table))]
            stage_id, probability = open_stages[reached]
            moved = t + int((now - t) * random_() * 0.9) if reached else t
            for step in range(1, reached + 1):
                when = t + (moved - t) * step // reached
                changes.append((deal_id, open_stages[step - 1][0], open_stages[step][0], owner, at(when)))
            stage_changed = at(moved)
            expected = created_day + 14 + int(random_() * 120)
            updated = stage_changed
        else:
            closed = min(t + int(DAY * (2 + 118 * random_() ** 2)), now - HOUR)
            prospect = "customer" not in base.roles[c]
            is_won = not prospect and random_() < 0.45
            status = DealStatus.WON if is_won else DealStatus.LOST
            stage_id = won_stage if is_won else lost_stage
            probability = 100 if is_won else 0
            last_open = open_stages[int(random_() * len(open_stages))][0]
            changes.append((deal_id, last_open, stage_id, owner, at(closed)))
            closed_at = stage_changed = updated = at(closed)
            expected = local_day(closed) + int(random_() * 30) - 15
            if not is_won:
                reason_id, reason = reason_table[int(random_() * len(reason_table))]
                comments = LOSS_COMMENTS.get(reason) or ["Клієнт відмовився без пояснень."]
                loss_comment = comments[int(random_() * len(comments))]
                if reason == "Обрали конкурента" or random_() < 0.15:
                    competitor = COMPETITORS[int(random_() * len(COMPETITORS))]
            elif deal_lines_ and closed < now - 2 * HOUR and random_() < 0.85:
                won.ids.append(deal_id)
                won.companies.append(c)
                won.closed.append(closed)
                won.people.append(person)
        deals.append((
            deal_id, created, updated, title, base.first_company_id + c, person, owner, team, pipeline_id, stage_id,
            _money(amount), bool(deal_lines_), probability, date(expected), source, status, reason_id, loss_comment,
            competitor, closed_at, stage_changed, 1,
        ))  # fmt: skip
        for product, q, p, d in deal_lines_:
            deal_lines.append((created, created, _quantity(q), _money(p), _money(d), deal_id, product_ids + product))
        if len(deals) >= CHUNK:
            batch.flush()
            progress.update(CHUNK)
    batch.flush()
    progress.close()
    return range(first_id, first_id + len(plan)), won


# --- Orders -----------------------------------------------------------------------------------------------------


def _order_plan(ctx: SeedContext, base: _Base, size: _Size, won: _WonDeals, now: int) -> list[int]:
    """(creation time, company or won deal, made from a deal) of every order, packed and sorted by time."""
    rng = ctx.rng
    random_ = rng.random
    offset = 10 * 365 * DAY
    customers = list(base.customers)
    rng.shuffle(customers)
    plan: list[int] = []
    for w in range(len(won.ids)):
        if len(plan) >= size.orders // 2:
            break
        t = min(won.closed[w] + HOUR + int(random_() * 2 * DAY), now - 600)
        plan.append(((t + offset) << 22 | w) << 1 | 1)

    def add(c: int, recent: bool = False) -> None:
        window = min(base.ages[c], 3 * 365 * DAY) - DAY
        if recent:
            window = min(window, 40 * DAY)
        t = now - 600 - int(window * random_() ** 1.1)
        plan.append(((t + offset) << 22 | c) << 1)

    # The demo client: a long order history with recent ones; the demo team's companies: recent ones too.
    for n in range(size.demo_orders):
        add(0, recent=n % 4 == 0)
    for c in base.manager_companies[:5] + base.sales_companies[:2]:
        for n in range(8):
            add(c, recent=n % 2 == 0)
    while len(plan) < size.orders:
        t = now - 600 - int(3 * 365 * DAY * random_() ** 1.1)
        c = _pick_company(random_, customers, base.ages, DAY - t, 1.25)
        plan.append(((t + offset) << 22 | c) << 1)
    plan.sort()
    return plan


def _seed_orders(
    ctx: SeedContext, time_: _Time, base: _Base, catalogue: _Catalogue, lines: _Lines, won: _WonDeals, size: _Size,
    now: int,
) -> range:  # fmt: skip
    rng = ctx.rng
    random_ = rng.random
    failure_reasons = dict(FailureReason.objects.filter(is_active=True).values_list("name", "pk"))
    # The reasons that fit each step (reasons an administrator added fail an order at any step).
    fit: dict[int, list[tuple[int, str, list[str]]]] = {step: [] for step in range(5)}
    for name, pk in failure_reasons.items():
        status, steps, comments = FAILURES.get(name, (OrderStatus.FAILED, range(5), [name]))
        for step in steps:
            fit[step].append((pk, status, comments))
    leads = _weighted_table(LEAD_DAYS, size=100)
    delays = _weighted_table(DELAYS, size=200)
    company_discount = {}

    plan = _order_plan(ctx, base, size, won, now)
    first_id = _reserve_ids("deals_order", len(plan))
    batch = _Batch({
        "deals_order": ["id", "created_at", "updated_at", "number", "company_id", "person_id", "owner_id", "team_id",
                        "deal_id", "source", "status", "failure_reason_id", "failure_comment", "expected_date",
                        "delivered_on", "payment_status", "subtotal", "discount_total", "vat_total", "total",
                        "comment", "status_changed_at"],
        "deals_orderline": ["created_at", "updated_at", "quantity", "price", "discount_percent", "vat_rate",
                            "net_amount", "vat_amount", "total_amount", "order_id", "product_id"],
        "deals_orderstatuschange": ["order_id", "from_status", "to_status", "changed_by_id", "changed_at", "comment"],
    })  # fmt: skip
    orders, order_lines, changes = (batch.rows[t] for t in batch.columns)
    offset = 10 * 365 * DAY
    at, date, local_day = time_.at, time_.date, time_.local_day
    product_ids, vats = catalogue.first_id, catalogue.vats
    vat_text = {v: _money(v) for v in set(vats)}
    full_history = now - FULL_HISTORY_DAYS * DAY
    anchor_year = time_.anchor_date.year
    year_starts = time_.year_starts(range(anchor_year - 4, anchor_year + 2))
    year_index = 0
    numbers: dict[int, int] = {}
    counts = lines.counts
    n_counts = len(counts)
    paid_table = {
        OrderStatus.COMPLETED: _weighted_table([(PaymentStatus.PAID, 96), (PaymentStatus.PARTIAL, 4)], 100),
        OrderStatus.DELIVERED: _weighted_table(
            [(PaymentStatus.PAID, 50), (PaymentStatus.PARTIAL, 30), (PaymentStatus.UNPAID, 20)], 100
        ),
        OrderStatus.SHIPPED: _weighted_table(
            [(PaymentStatus.PAID, 35), (PaymentStatus.PARTIAL, 15), (PaymentStatus.UNPAID, 50)], 100
        ),
    }
    early = _weighted_table([(PaymentStatus.PAID, 15), (PaymentStatus.PARTIAL, 10), (PaymentStatus.UNPAID, 75)], 100)
    new, done = OrderStatus.NEW, OrderStatus.COMPLETED
    progress = tqdm(total=len(plan), desc="deals_order", unit="rows", disable=not ctx.progress, leave=False)
    for n, key in enumerate(plan):
        from_deal = key & 1
        x = key >> 1 & 0x3FFFFF
        t = (key >> 23) - offset
        order_id = first_id + n
        while year_index + 1 < len(year_starts) and t >= year_starts[year_index + 1][0]:
            year_index += 1
        year = year_starts[year_index][1]
        number = numbers[year] = numbers.get(year, 0) + 1
        if from_deal:
            c, deal_id, person = won.companies[x], won.ids[x], won.people[x]
            order_lines_ = lines.for_deal(deal_id - won.first_id, c)
            source = OrderSource.DEAL
        else:
            c, deal_id = x, None
            person = base.person(c, random_(), 0.8)
            discount = company_discount.get(c)
            if discount is None:
                discount = company_discount[c] = (0, 0, 0, 0, 300, 500, 700, 1000)[int(random_() * 8)]
            order_lines_ = lines.make(random_, c, counts[int(random_() * n_counts)], discount)
            source = OrderSource.PORTAL if random_() < 0.12 else OrderSource.STAFF
        owner, team = base.owners[c], base.teams[c]
        created_day = local_day(t)
        expected = created_day + leads[int(random_() * len(leads))]

        # The steps' times: confirmed, in progress, shipped, delivered, completed.
        steps = [t]
        step_t = t + 360 + int(random_() * 36 * HOUR)
        steps.append(step_t)
        step_t += 2 * HOUR + int(random_() * 70 * HOUR)
        steps.append(step_t)
        step_t += 4 * HOUR + int(random_() * 90 * HOUR)
        steps.append(step_t)
        delivered_day = expected + delays[int(random_() * len(delays))]
        step_t = max(step_t + 4 * HOUR, delivered_day * DAY + 6 * HOUR + int(random_() * 9 * HOUR))
        steps.append(step_t)
        steps.append(step_t + DAY + int(random_() * 19 * DAY))
        fate = random_()
        end_step, failure = 5, None
        if fate < 0.11:  # cancelled or failed at some step
            step = int(random_() * 5)
            if fit[step]:
                end_step, failure = step, fit[step][int(random_() * len(fit[step]))]
        elif fate < 0.14 and now - 365 * DAY < t < now - 14 * DAY:  # stuck: open long after its expected date
            end_step = int(random_() * 4)
        reached = 0
        while reached < end_step and steps[reached + 1] <= now:
            reached += 1
        status = FLOW[reached]
        failed_at = None
        if failure is not None and reached == end_step:
            failed_at = min(steps[end_step] + HOUR + int(random_() * 2 * DAY), now - 60)
            if failed_at <= steps[end_step]:
                failed_at = None
        last_t = steps[reached]
        reason_id = None
        failure_comment = ""
        if failed_at is not None:
            reason_id, status, comments = failure
            failure_comment = comments[int(random_() * len(comments))]
            last_t = failed_at
        last_at = at(last_t)

        # Lines and totals (the service's rule: per line, then sums).
        subtotal = discount_total = vat_total = 0
        created = at(t)
        for product, q, p, d in order_lines_:
            vat = vats[product]
            gross, net, line_vat = line_amounts(q, p, d, vat)
            subtotal += net
            discount_total += gross - net
            vat_total += line_vat
            order_lines.append((
                created, created, _quantity(q), _money(p), _money(d), vat_text[vat], _money(net), _money(line_vat),
                _money(net + line_vat), order_id, product_ids + product,
            ))  # fmt: skip

        # History: the creation row, then every step (recent orders) or only the last one.
        changes.append((order_id, "", new, owner, created, ""))
        if t >= full_history:
            for step in range(1, reached + 1):
                changes.append((order_id, FLOW[step - 1], FLOW[step], owner, at(steps[step]), ""))
        elif reached:
            changes.append((order_id, FLOW[reached - 1], FLOW[reached], owner, at(steps[reached]), ""))
        if failed_at is not None:
            changes.append((order_id, FLOW[reached], status, owner, last_at, failure_comment))

        if status in paid_table:
            payment = paid_table[status][int(random_() * 100)]
        elif reason_id is not None:
            payment = PaymentStatus.UNPAID
        else:
            payment = early[int(random_() * 100)]
        delivered_on = date(local_day(steps[4])) if reached >= 4 else None
        expected_date = date(expected) if not from_deal or random_() < 0.9 else None
        orders.append((
            order_id, created, last_at, f"{year}-{number:06d}", base.first_company_id + c, person, owner, team,
            deal_id, source, status, reason_id, failure_comment, expected_date, delivered_on, payment,
            _money(subtotal), _money(discount_total), _money(vat_total), _money(subtotal + vat_total),
            ORDER_COMMENTS[int(random_() * len(ORDER_COMMENTS))] if status != done else "", last_at,
        ))  # fmt: skip
        if len(orders) >= CHUNK:
            batch.flush()
            progress.update(CHUNK)
    batch.flush()
    progress.close()
    # The counters continue after the seeded numbers (an upsert: a counter row has no owner to be emptied with).
    OrderNumber.objects.bulk_create(
        [OrderNumber(year=year, last=last) for year, last in sorted(numbers.items())],
        update_conflicts=True,
        unique_fields=["year"],
        update_fields=["last"],
    )
    return range(first_id, first_id + len(plan))


# --- Contracts ---------------------------------------------------------------------------------------------------


def _seed_contracts(ctx: SeedContext, time_: _Time, base: _Base, size: _Size, now: int) -> None:
    """Contracts of customers: most of the last three years expired or active, 5% ending within 30 days."""
    rng = ctx.rng
    random_ = rng.random
    customers = list(base.customers)
    rng.shuffle(customers)
    companies = [0, *base.manager_companies[:3], *base.sales_companies[:1]]
    companies += customers[: size.contracts - len(companies)]
    today = time_.local_day(now)
    rows = []
    per_year: dict[int, int] = {}
    for n, c in enumerate(companies[: size.contracts]):
        expiring = n < 5 or random_() < 0.05
        if expiring:
            ends = today + int(random_() * 31)
            starts = ends - 365 * (1 + int(random_() * 2)) + 1
        else:
            starts = today - int(random_() * 3 * 365) + 20
            ends = starts + 365 * (1 + int(random_() * 2)) - 1 if random_() < 0.9 else None
        if expiring or (starts <= today and (ends is None or ends > today + 30)):
            status = ContractStatus.ACTIVE
        elif starts > today:
            status = ContractStatus.DRAFT
        elif ends is not None and ends < today:
            status = ContractStatus.TERMINATED if random_() < 0.08 else ContractStatus.EXPIRED
        else:
            # Ends within 30 days but not chosen as "expiring": announced already.
            status = ContractStatus.ACTIVE
        year = (time_.anchor_date + timedelta(days=starts)).year
        number = per_year[year] = per_year.get(year, 0) + 1
        created = time_.at(min(starts * DAY, now) - 5 * DAY)
        amount = _money(int(50_000 + 5_000_000 * random_() ** 3) // 1000 * 100_000) if random_() < 0.85 else None
        notified = None
        if status == ContractStatus.ACTIVE and not expiring and ends is not None and ends <= today + 30:
            notified = time_.at((ends - 30) * DAY + 7 * HOUR)
        rows.append((
            created, created, f"Д-{year}/{number:04d}", base.first_company_id + c, base.owners[c], base.teams[c],
            time_.date(starts), time_.date(ends) if ends is not None else None, amount, status, "", notified,
            CONTRACT_LEVELS[n % len(CONTRACT_LEVELS)],
        ))  # fmt: skip
    _copy(
        "deals_contract",
        ["created_at", "updated_at", "number", "company_id", "owner_id", "team_id", "starts_on", "ends_on", "amount",
         "status", "signed_file", "expiry_notified_at", "service_level"],
        rows,
    )  # fmt: skip


# --- Suppliers ---------------------------------------------------------------------------------------------------


def _seed_suppliers(
    ctx: SeedContext, time_: _Time, base: _Base, catalogue: _Catalogue, size: _Size, now: int
) -> list[int]:
    rng = ctx.rng
    random_ = rng.random
    # Companies with the supplier role (not the demo client); more get the role if there are too few.
    chosen = [c for c in range(1, len(base.roles)) if "supplier" in base.roles[c]][: size.suppliers]
    if len(chosen) < size.suppliers:
        others = [c for c in range(1, len(base.roles)) if "supplier" not in base.roles[c]]
        extra = others[: size.suppliers - len(chosen)]
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE contacts_company SET roles = array_append(roles, 'supplier') WHERE id = ANY(%s)",
                [[base.first_company_id + c for c in extra]],
            )
        for c in extra:
            base.roles[c] = [*base.roles[c], "supplier"]
        chosen += extra
    supplier_ids = [base.first_company_id + c for c in chosen]
    regions = list(Region.values)
    created = time_.at(-2 * 365 * DAY)
    profiles = []
    lead_days = []
    specialities = []
    reliability = []
    reliability_table = _weighted_table([(r, r[0]) for r in RELIABILITY], size=100)
    goods = catalogue.goods_tops
    for n, company_id in enumerate(supplier_ids):
        lead = 1 + int(random_() ** 2 * 20)
        lead_days.append(lead)
        national = random_() < 0.3
        served = regions if national else sorted(rng.sample(regions, 1 + int(random_() * 6)))
        minimum = _money(int(2_000 + 48_000 * random_()) // 500 * 50_000) if random_() < 0.6 else None
        profiles.append((
            created, created, company_id, DELIVERY_TERMS[int(random_() * len(DELIVERY_TERMS))],
            PAYMENT_TERMS[int(random_() * len(PAYMENT_TERMS))], minimum, "{" + ",".join(served) + "}", lead,
        ))  # fmt: skip
        specialities.append({goods[n % len(goods)], goods[int(random_() * len(goods))]})
        reliability.append(reliability_table[int(random_() * len(reliability_table))])
    _copy(
        "deals_supplierprofile",
        ["created_at", "updated_at", "company_id", "delivery_terms", "payment_terms", "minimum_order",
         "delivery_regions", "promised_lead_days"],
        profiles,
    )  # fmt: skip

    # Offers: the first products 3–6 each, a third of the rest one or two; by suppliers of the category.
    by_top: dict[int, list[int]] = {}
    for s, tops in enumerate(specialities):
        for t in tops:
            by_top.setdefault(t, []).append(s)
    everyone = list(range(len(supplier_ids)))
    offers = []  # (supplier index, product index, lead days)
    for product in range(catalogue.n):
        if product < size.offer_products:
            count = 3 + int(random_() * 4)
        elif random_() < 0.33:
            count = 1 + int(random_() * 2)
        else:
            continue
        pool = by_top.get(catalogue.tops[product], [])
        if len(pool) < count:
            pool = everyone
        for s in rng.sample(pool, min(count, len(pool))):
            offers.append((s, product, max(1, lead_days[s] + int(random_() * 7) - 3)))
    first_offer = _reserve_ids("deals_supplieroffer", len(offers)) if offers else 0
    today = time_.local_day(now)
    offer_rows = []
    for n, (s, product, lead) in enumerate(offers):
        price = catalogue.prices[product] * (55 + int(random_() * 30)) // 100
        currency = "UAH"
        roll = random_()
        if roll < 0.08:
            currency, price = "USD", round(price / USD_RATE)
        elif roll < 0.12:
            currency, price = "EUR", round(price / EUR_RATE)
        valid_from = today - int(random_() * 400)
        roll = random_()
        if roll < 0.6:
            valid_until = None
        elif roll < 0.9:
            valid_until = today + 30 + int(random_() * 300)
        else:  # expired
            valid_until = max(valid_from, today - 1 - int(random_() * 30))
        offer_rows.append((
            first_offer + n, created, created, supplier_ids[s], product + catalogue.first_id,
            f"{supplier_ids[s] % 1000:03d}-{product:05d}", _money(max(1, price)), currency, lead,
            time_.date(valid_from), time_.date(valid_until) if valid_until is not None else None,
        ))  # fmt: skip
    _copy(
        "deals_supplieroffer",
        ["id", "created_at", "updated_at", "supplier_id", "product_id", "supplier_sku", "price", "currency",
         "lead_days", "valid_from", "valid_until"],
        offer_rows,
    )  # fmt: skip

    # Deliveries: mostly of the offered products with several suppliers, over the last two years.
    sample = [n for n, (_s, product, _lead) in enumerate(offers) if product < size.offer_products]
    rows = []
    quantities = {unit: _weighted_table(options, size=200) for unit, options in QUANTITIES.items()}
    for _ in range(size.deliveries if offers else 0):
        o = sample[int(random_() * len(sample))] if sample and random_() < 0.6 else int(random_() * len(offers))
        s, product, lead = offers[o]
        _weight, on_time, partial, late = reliability[s]
        ordered = today - int(random_() * 730)
        while (time_.anchor_date.weekday() + ordered) % 7 >= 5:  # ordered on a weekday
            ordered -= 1
        promised = ordered + lead
        if random_() < on_time:
            delivered = max(ordered, promised - int(random_() * 2))
        else:
            delivered = promised + late[int(random_() * len(late))]
        options = quantities[catalogue.units[product]]
        ordered_q = options[int(random_() * len(options))] * 10
        if delivered > today:
            delivered, received = None, 0
        elif random_() < partial:
            received = ordered_q * (50 + int(random_() * 45)) // 100
        else:
            received = ordered_q
        when = time_.at(ordered * DAY + 8 * HOUR)
        rows.append((
            when, when, supplier_ids[s], product + catalogue.first_id, first_offer + o if random_() < 0.95 else None,
            time_.date(ordered), time_.date(promised), time_.date(delivered) if delivered is not None else None,
            _quantity(ordered_q), _quantity(received),
        ))  # fmt: skip
    _copy(
        "deals_purchasedelivery",
        ["created_at", "updated_at", "supplier_id", "product_id", "offer_id", "ordered_on", "promised_on",
         "delivered_on", "quantity_ordered", "quantity_received"],
        rows,
    )  # fmt: skip
    return supplier_ids


# --- Prices ----------------------------------------------------------------------------------------------------


def _seed_prices(ctx: SeedContext, time_: _Time, base: _Base, catalogue: _Catalogue, size: _Size, now: int) -> None:
    """Customer groups with this year's and last year's price lists, price lists of some companies (the demo
    client's among them), discounts for companies, categories and both, and the two loyalty rules."""
    rng = ctx.rng
    random_ = rng.random
    today = time_.anchor_date
    this_year = today.replace(month=1, day=1)
    last_year = this_year.replace(year=this_year.year - 1)
    customers = list(base.customers)
    rng.shuffle(customers)
    first = base.first_company_id
    product_ids = range(catalogue.first_id, catalogue.first_id + catalogue.n)

    def items(price_list: PriceList, share: float, factor: float) -> list[PriceListItem]:
        picked = [p for p in range(catalogue.n) if random_() < share]
        return [
            PriceListItem(
                price_list=price_list,
                product_id=product_ids[p],
                price=Decimal(_money(_round_price(catalogue.prices[p] / 100 * factor * (0.97 + random_() * 0.04)))),
            )
            for p in picked
        ]

    price_items: list[PriceListItem] = []
    taken = 0
    for name, factor in CUSTOMER_GROUPS:
        group = CustomerGroup.objects.create(name=name)
        members = customers[taken : taken + size.group_members]
        taken += size.group_members
        CustomerGroup.companies.through.objects.bulk_create(
            CustomerGroup.companies.through(customergroup=group, company_id=first + c) for c in members
        )
        current, previous = PriceList.objects.bulk_create([
            PriceList(name=f"{name} {this_year.year}", customer_group=group, valid_from=this_year),
            PriceList(name=f"{name} {last_year.year}", customer_group=group, valid_from=last_year,
                      valid_until=this_year - timedelta(days=1)),
        ])  # fmt: skip
        price_items += items(current, 0.3, factor) + items(previous, 0.3, factor * 0.92)

    companies = [0, *base.manager_companies[:2], *customers[taken : taken + size.price_list_companies]]
    for n, c in enumerate(companies[: size.price_list_companies]):
        price_list = PriceList.objects.create(
            name=f"Індивідуальний прайс — {base.names[c]}",
            company_id=first + c,
            valid_from=today - timedelta(days=int(random_() * 200)),
            valid_until=today + timedelta(days=30 + int(random_() * 300)) if random_() < 0.5 else None,
            is_active=n < 3 or random_() < 0.9,
        )
        price_items += items(price_list, min(1.0, 60 / max(1, catalogue.n)) + 0.02, 0.85 + random_() * 0.1)
    PriceListItem.objects.bulk_create(price_items, batch_size=2000)

    discounts = [
        Discount(company_id=first, percent=5, valid_from=last_year),
        Discount(company_id=first, category_id=catalogue.top_ids[0], percent=8, valid_from=this_year),
    ]
    taken += size.price_list_companies
    for c in customers[taken : taken + size.company_discounts]:
        roll = random_()
        start = today - timedelta(days=int(random_() * 500))
        discounts.append(Discount(
            company_id=first + c,
            category_id=catalogue.top_ids[catalogue.goods_tops[int(random_() * len(catalogue.goods_tops))]]
            if roll < 0.4 else None,
            percent=(2, 3, 5, 5, 7, 10)[int(random_() * 6)],
            valid_from=start,
            valid_until=start + timedelta(days=365) if random_() < 0.5 else None,
        ))  # fmt: skip
    # Seasonal category promotions: past, current and coming.
    for n, leaf in enumerate(catalogue.leaf_ids[:: max(1, len(catalogue.leaf_ids) // 8)]):
        start = today + timedelta(days=(n % 4 - 2) * 45)
        discounts.append(Discount(category_id=leaf, percent=(3, 5, 10, 15)[n % 4], valid_from=start,
                                  valid_until=start + timedelta(days=60)))  # fmt: skip
    Discount.objects.bulk_create(discounts)
    LoyaltyRule.objects.bulk_create(
        LoyaltyRule(name=name, min_orders=orders, min_amount=amount, period_days=365, percent=percent)
        for name, orders, amount, percent in LOYALTY_RULES
    )


# --- Entry point ---------------------------------------------------------------------------------------------------


def seed(ctx: SeedContext) -> None:
    size = SIZES[ctx.size]
    clock = _Clock(timezone.now().replace(hour=0, minute=0, second=0, microsecond=0))
    # "Now" is the anchor (today 00:00 UTC), not the clock: the same rows every run of the day (the ids follow
    # the creation times, so a moving "now" would reorder them).
    now = 0
    time_ = _Time(clock)
    base = _load_base(ctx, clock.anchor)
    catalogue = _seed_catalogue(ctx, time_, size)
    lines = _Lines(catalogue)
    bulk = ctx.size in BULK_LOAD_SIZES
    with _bulk_load(BIG_TABLES, enabled=bulk):
        deal_ids, won = _seed_deals(ctx, time_, base, catalogue, lines, size, now)
        order_ids = _seed_orders(ctx, time_, base, catalogue, lines, won, size, now)
    _seed_contracts(ctx, time_, base, size, now)
    supplier_ids = _seed_suppliers(ctx, time_, base, catalogue, size, now)
    _seed_prices(ctx, time_, base, catalogue, size, now)
    with connection.cursor() as cursor:
        small = ["deals_category", "deals_product", "deals_contract", "deals_supplierprofile", "deals_supplieroffer",
                 "deals_purchasedelivery", "deals_pricelist", "deals_pricelistitem", "deals_discount",
                 "deals_customergroup_companies", "deals_pipeline", "deals_stage", "deals_ordernumber"]  # fmt: skip
        for table in small + ([] if bulk else list(BIG_TABLES)):
            cursor.execute(f"ANALYZE {table}")
    # COPY and bulk_create send no signal: drop the cached board totals and order counts (crm.lib.cached).
    bump(aggregates.DEALS)
    bump(aggregates.ORDERS)
    ctx.shared.update(
        product_ids=range(catalogue.first_id, catalogue.first_id + catalogue.n),
        deal_ids=deal_ids,
        order_ids=order_ids,
        supplier_ids=supplier_ids,
    )
