"""Contacts demo data: industries, companies, people, contact points and interactions (issue 4, item 14).

Sizes (companies / people / contact points / interactions): S 300 / 900 / 2,000 / 3,000 (the `make run`
demo), M 25k / 100k / 200k / 500k, L 250k / 1M / 2M / 5M (seeded in minutes, not hours).

Speed: every big table is loaded with COPY through `ctx.copy_rows`. Rows are built from name pools
that Faker fills once (Faker per row is far too slow at 1M rows) and combined with the seeded rng;
ids are reserved from each table's identity sequence up front, so rows can point at each other
without reading anything back; timestamps go to COPY as text (`_Clock`). At sizes M and L the
secondary indexes and the foreign keys of the four big tables are dropped around the load and
rebuilt after it (`_bulk_load`): a rebuilt index and a one-query foreign-key validation are several
times faster than maintaining them row by row.

Measured with `manage.py seed_demo` (crm and contacts) on this machine (2 cores, embedded
PostgreSQL 18, other engineers' test runs sharing the CPU): M 30–35 s, 74 s without `_bulk_load`;
L 239 s (4 min) at a load average of 1–4, 1,036 s without `_bulk_load`.

Data is deterministic: the same rows every run, with dates relative to today at 00:00 UTC.

Simple-history tables are NOT filled: COPY bypasses the models, so seeded rows have no "created"
history record. That is acceptable for demo data; the "Changes" tab starts at the first real edit.

Later seeders find what this one made in `ctx.shared`:
    "company_ids" (range), "company_owner_ids" (array, aligned with company_ids),
    "person_ids" (range), "company_first_person_id" / "company_people_count" (arrays, aligned with
    company_ids: a company's people are the contiguous ids first .. first + count - 1),
    "demo_client_id" (the client of the demo sales representative with the long history).
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from importlib import import_module

from django.db import connection
from django.utils import timezone
from faker import Faker

from contacts.models import (
    Channel,
    CompanySize,
    CompanyStatus,
    ContactPointKind,
    Industry,
    InteractionChannel,
    LegalForm,
    Region,
    Source,
)
from crm.models import Role, User
from crm.seeding import SeedContext

# The demo sales representative's client with the long history (the bench's "card of a client with
# 5,000 interactions"); bench/pages.py finds it by this code.
DEMO_CLIENT_NAME = "ТОВ «Київська торгова група»"
DEMO_CLIENT_EDRPOU = "38254716"
DEMO_REP_EMAIL = "sales@example.com"

TABLES = ("contacts_company", "contacts_person", "contacts_contactpoint", "contacts_interaction")
# Sizes loaded with the secondary indexes and foreign keys dropped (`_bulk_load`): 2.5x faster at M,
# 4x at L (see the module docstring); S gains nothing and keeps the plain path.
BULK_LOAD_SIZES = ("M", "L")


def edrpou_check_digit(first7: str) -> str:
    """The 8th digit that makes `first7` a valid EDRPOU code (the algorithm of contacts.validators).

    The weights depend on the whole code lying in 30,000,000..60,000,000; only the prefix 6000000
    straddles that bound, so it is refused (the seeder never draws it).
    """
    if first7 == "6000000":
        raise ValueError("the prefix 6000000 has no unambiguous check digit")
    digits = [int(c) for c in first7]
    weights = [7, 1, 2, 3, 4, 5, 6] if 3_000_000 <= int(first7) < 6_000_000 else [1, 2, 3, 4, 5, 6, 7]
    check = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
    if check >= 10:
        check = sum(d * (w + 2) for d, w in zip(digits, weights, strict=True)) % 11
        if check >= 10:
            check = 0
    return str(check)


# --- Reference data -------------------------------------------------------------------------------

INDUSTRIES = [
    "Сільське господарство", "Харчова промисловість", "Будівництво", "Роздрібна торгівля", "Оптова торгівля",
    "IT та телекомунікації", "Логістика та перевезення", "Машинобудування", "Металургія", "Хімічна промисловість",
    "Фармацевтика", "Медицина", "Освіта", "Енергетика", "Фінанси та страхування", "Нерухомість",
    "Готельно-ресторанний бізнес", "Меблева промисловість", "Легка промисловість", "Деревообробка",
    "Реклама та маркетинг", "Державний сектор", "Автомобільний бізнес", "Поліграфія",
]  # fmt: skip

# (region, weight, cities, landline area code or "" for mobile only, postcode prefix)
REGIONS: list[tuple[str, float, tuple[str, ...], str, str]] = [
    (Region.KYIV_CITY, 22, ("Київ",), "44", "0"),
    (Region.KYIV_OBLAST, 6, ("Бровари", "Бориспіль", "Біла Церква", "Ірпінь", "Буча", "Вишневе", "Обухів"), "45", "08"),
    (Region.LVIV, 8, ("Львів", "Дрогобич", "Червоноград", "Стрий", "Самбір", "Трускавець"), "32", "79"),
    (Region.DNIPROPETROVSK, 8, ("Дніпро", "Кривий Ріг", "Кам'янське", "Нікополь", "Павлоград"), "56", "49"),
    (Region.KHARKIV, 7, ("Харків", "Лозова", "Ізюм", "Чугуїв"), "57", "61"),
    (Region.ODESA, 7, ("Одеса", "Ізмаїл", "Чорноморськ", "Білгород-Дністровський"), "48", "65"),
    (Region.ZAPORIZHZHIA, 4, ("Запоріжжя", "Мелітополь", "Бердянськ", "Енергодар"), "61", "69"),
    (Region.VINNYTSIA, 3, ("Вінниця", "Жмеринка", "Могилів-Подільський"), "43", "21"),
    (Region.POLTAVA, 3, ("Полтава", "Кременчук", "Миргород"), "53", "36"),
    (Region.IVANO_FRANKIVSK, 2.5, ("Івано-Франківськ", "Калуш", "Коломия"), "34", "76"),
    (Region.VOLYN, 2, ("Луцьк", "Ковель", "Нововолинськ"), "33", "43"),
    (Region.ZHYTOMYR, 2, ("Житомир", "Бердичів", "Коростень"), "41", "10"),
    (Region.ZAKARPATTIA, 2, ("Ужгород", "Мукачево", "Хуст"), "31", "88"),
    (Region.KIROVOHRAD, 1.5, ("Кропивницький", "Олександрія"), "52", "25"),
    (Region.MYKOLAIV, 2, ("Миколаїв", "Первомайськ", "Вознесенськ"), "51", "54"),
    (Region.RIVNE, 2, ("Рівне", "Вараш", "Дубно"), "36", "33"),
    (Region.SUMY, 1.5, ("Суми", "Конотоп", "Шостка"), "54", "40"),
    (Region.TERNOPIL, 2, ("Тернопіль", "Чортків", "Кременець"), "35", "46"),
    (Region.KHERSON, 1, ("Херсон", "Нова Каховка"), "55", "73"),
    (Region.KHMELNYTSKYI, 2, ("Хмельницький", "Кам'янець-Подільський", "Шепетівка"), "38", "29"),
    (Region.CHERKASY, 2, ("Черкаси", "Умань", "Сміла"), "47", "18"),
    (Region.CHERNIVTSI, 1.5, ("Чернівці", "Новодністровськ"), "37", "58"),
    (Region.CHERNIHIV, 1.5, ("Чернігів", "Ніжин", "Прилуки"), "46", "14"),
    (Region.DONETSK, 1, ("Краматорськ", "Слов'янськ", "Покровськ"), "62", "84"),
    (Region.LUHANSK, 0.3, ("Сєвєродонецьк", "Лисичанськ"), "", "93"),
    (Region.CRIMEA, 0.1, ("Сімферополь",), "", "95"),
    (Region.SEVASTOPOL, 0.05, ("Севастополь",), "", "99"),
]
MOBILE_CODES = ("50", "66", "95", "99", "67", "68", "96", "97", "98", "63", "73", "93")

# (legal form, weight, prefix in the name)
LEGAL_FORMS: list[tuple[str, float, str]] = [
    (LegalForm.TOV, 60, "ТОВ"),
    (LegalForm.PP, 12, "ПП"),
    (LegalForm.FOP, 10, "ФОП"),
    (LegalForm.AT, 4, "ПрАТ"),
    (LegalForm.AT, 1, "АТ"),
    (LegalForm.DP, 3, "ДП"),
    (LegalForm.KP, 3, "КП"),
    (LegalForm.GO, 2, "ГО"),
    (LegalForm.OTHER, 5, "ФГ"),
]
ROLE_SETS: list[tuple[str, float, str]] = [  # (array literal, weight, status family)
    ("{customer}", 55, "customer"),
    ("{prospect}", 25, "prospect"),
    ("{supplier}", 8, "customer"),
    ("{partner}", 4, "customer"),
    ("{customer,partner}", 4, "customer"),
    ("{customer,supplier}", 3, "customer"),
    ("{supplier,partner}", 1, "customer"),
]
TAGS = ["VIP", "ключовий", "тендер", "опт", "роздріб", "експорт", "імпорт", "держзамовник", "новий", "пріоритет",
        "проблемний", "постійний", "мережа", "дилер"]  # fmt: skip
INTERESTS = ["Пакування", "Обладнання", "Сировина", "Програмне забезпечення", "Логістичні послуги", "Запчастини",
             "Канцтовари", "Будматеріали", "Побутова хімія", "Продукти харчування", "Спецодяг",
             "Електроніка"]  # fmt: skip
NEEDS = [
    "", "", "", "Шукають постачальника на наступний сезон.", "Потрібна відстрочка платежу 30 днів.",
    "Цікавляться оптовими знижками.", "Планують розширення складу, потрібне обладнання.",
    "Важлива швидка доставка по області.", "Переходять на електронний документообіг.",
]  # fmt: skip
COMPANY_NOTES = ["", "", "", "", "<p>Рішення приймає директор, телефонувати зранку.</p>",
                 "<p>Оплата <strong>лише після поставки</strong>.</p>", "<p>Працюють з ПДВ.</p>"]  # fmt: skip
SOURCES = [Source.WEBSITE, Source.REFERRAL, Source.REFERRAL, Source.EXHIBITION, Source.COLD_CALL,
           Source.COLD_CALL, Source.CAMPAIGN, Source.OTHER, ""]  # fmt: skip
SIZES = [(CompanySize.MICRO, 45), (CompanySize.SMALL, 30), (CompanySize.MEDIUM, 18), (CompanySize.LARGE, 7)]

STEMS = ["Агро", "Буд", "Енерго", "Техно", "Укр", "Мет", "Хім", "Фарм", "Транс", "Торг", "Інвест", "Еко", "Нафто",
         "Пром", "Альфа", "Мега", "Дніпро", "Карпати", "Поділля", "Галич", "Полісся", "Таврія", "Сіверс", "Бук",
         "Вест", "Іст", "Нова", "Прайм", "Смарт", "Євро"]  # fmt: skip
STEM_TAILS = ["світ", "лайн", "трейд", "буд", "пром", "сервіс", "постач", "інвест", "груп", "систем", "текс", "маш",
              "хім", "продукт", "ресурс", "центр", "торг", "альянс", "стиль", "тех"]  # fmt: skip
WORD_TAILS = ["Плюс", "Україна", "Груп", "Трейд", "Сервіс", "Логістик", "Інвест", "Агро", "Буд", "Пром",
              "Київ", "Захід", "Схід"]  # fmt: skip
SURNAME_TAILS = ["і партнери", "та син", "Груп", "Трейд", "Консалтинг", "і Ко", "Брати"]
NICE_WORDS = ["Світанок", "Зоря", "Колос", "Злагода", "Явір", "Каштан", "Вітрило", "Джерело", "Обрій", "Рубіж",
              "Надія", "Добробут", "Оберіг", "Сокіл", "Граніт", "Кристал", "Арсенал", "Форпост", "Еталон", "Орбіта",
              "Вектор", "Меридіан", "Горизонт", "Веселка", "Лелека", "Дібрава", "Нива", "Говерла", "Чумак",
              "Берегиня", "Калина", "Ятрань", "Десна", "Славутич", "Стожари", "Золотий колос", "Рідний край",
              "Пролісок", "Смерічка", "Мрія", "Поступ", "Ватра", "Флагман", "Магістраль", "Старт", "Енергія",
              "Ресурс", "Імпульс", "Альянс", "Партнер", "Континент", "Атлант", "Стандарт", "Гарант"]  # fmt: skip

POSITIONS = ["Менеджер із закупівель", "Головний бухгалтер", "Бухгалтер", "Комерційний директор", "Менеджер з продажу",
             "Начальник відділу постачання", "Юрист", "Інженер", "Завідувач складу", "Офіс-менеджер",
             "Фінансовий директор", "Технічний директор", "Маркетолог", "Логіст", "Секретар", "Економіст"]  # fmt: skip
HEAD_POSITIONS = ["Директор", "Генеральний директор", "Директор", "Голова правління", "Власник"]
CP_LABELS_COMPANY = ["Бухгалтерія", "Відділ продажів", "Склад", "Приймальня"]
FREE_MAIL = ["gmail.com", "ukr.net", "i.ua", "meta.ua", "gmail.com", "ukr.net"]

# Interaction channels: (channel, weight, directions, subjects, duration kind)
CHANNELS: list[tuple[str, int, tuple[str, ...], tuple[str, ...], str]] = [
    (InteractionChannel.CALL_OUT, 25, ("out",), ("Дзвінок щодо замовлення", "Уточнення умов поставки",
     "Нагадування про оплату", "Пропозиція нового товару", "Узгодження графіка поставок"), "call"),
    (InteractionChannel.CALL_IN, 15, ("in",), ("Запит ціни", "Питання щодо доставки", "Скарга на якість",
     "Запит рахунку", "Уточнення залишків"), "call"),
    (InteractionChannel.EMAIL_OUT, 15, ("out",), ("Комерційна пропозиція", "Рахунок на оплату",
     "Акт звірки", "Прайс-лист", "Договір на підпис"), ""),
    (InteractionChannel.EMAIL_IN, 12, ("in",), ("Заявка на поставку", "Підписаний договір", "Запит документів",
     "Претензія", "Відповідь на пропозицію"), ""),
    (InteractionChannel.MESSENGER, 10, ("in", "out"), ("Фото товару", "Уточнення адреси доставки",
     "Статус замовлення", "Швидке питання"), ""),
    (InteractionChannel.MEETING, 6, ("",), ("Зустріч у нашому офісі", "Переговори щодо річного договору",
     "Презентація продукції"), "meeting"),
    (InteractionChannel.VISIT, 5, ("",), ("Візит до клієнта", "Огляд складу клієнта", "Навчання персоналу"),
     "meeting"),
    (InteractionChannel.WEB_FORM, 4, ("in",), ("Заявка з сайту", "Запит консультації"), ""),
    (InteractionChannel.PORTAL, 4, ("in",), ("Замовлення через портал", "Звернення через портал"), ""),
    (InteractionChannel.LETTER, 3, ("in", "out"), ("Лист із оригіналами документів", "Офіційний лист"), ""),
    (InteractionChannel.FAX, 1, ("in", "out"), ("Факс: рахунок", "Факс: специфікація"), ""),
]  # fmt: skip
OUTCOMES = ["", "", "Домовились про зустріч", "Надіслати КП", "Без результату", "Замовлення підтверджено",
            "Передзвонити наступного тижня", "Потрібне погодження керівника", "Оплата гарантована",
            "Відмова"]  # fmt: skip
BODIES = ["", "", "", "", "", "", "Клієнт просить знижку 5% при оплаті наперед.",
          "Обговорили обсяги на наступний квартал.", "Потрібні сертифікати якості до кожної партії.",
          "Контактна особа у відпустці до кінця місяця.", "Надіслали зразки, чекаємо відгук.",
          "Погодили доставку на понеділок.", "Запит на оновлений прайс з урахуванням курсу."]  # fmt: skip

TRANSLIT = dict(zip("абвгґдеєжзиіїйклмнопрстуфхцчшщьюя'’", [
    "a", "b", "v", "h", "g", "d", "e", "ie", "zh", "z", "y", "i", "i", "i", "k", "l", "m", "n", "o", "p", "r", "s",
    "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "iu", "ia", "", ""], strict=True))  # fmt: skip


def translit(text: str) -> str:
    """Ukrainian to Latin letters (the 2010 national system, simplified), for e-mails and domains."""
    return "".join(TRANSLIT.get(c, c if c.isascii() and c.isalnum() else "") for c in text.lower())


def _weighted_table(items: Sequence[tuple[object, float]], size: int = 1000) -> list:
    """A lookup table for weighted choice by `table[int(rng.random() * len(table))]` (rng.choices is slow)."""
    total = sum(weight for _item, weight in items)
    table: list = []
    for item, weight in items:
        table += [item] * max(1, round(weight / total * size))
    return table


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


@dataclass
class _Pools:
    """Name pools filled by Faker once; rows combine them with the rng."""

    last_male: list[str]
    last_female: list[str]
    first_male: list[str]
    first_female: list[str]
    patronymic_male: list[str]
    patronymic_female: list[str]
    words: list[str]
    streets: list[str]

    @property
    def last(self) -> list[str]:
        """Male then female last names: people store an index into this."""
        return self._last

    @property
    def first(self) -> list[str]:
        return self._first

    def __post_init__(self) -> None:
        self._last = self.last_male + self.last_female
        self._first = self.first_male + self.first_female

    @classmethod
    def build(cls, faker: Faker) -> _Pools:
        return cls(
            last_male=_unique([faker.last_name_male() for _ in range(800)]),
            last_female=_unique([faker.last_name_female() for _ in range(800)]),
            first_male=_unique([faker.first_name_male() for _ in range(400)]),
            first_female=_unique([faker.first_name_female() for _ in range(400)]),
            patronymic_male=_unique([faker.middle_name_male() for _ in range(300)]),
            patronymic_female=_unique([faker.middle_name_female() for _ in range(300)]),
            # Companies are often named after a place: Faker's Ukrainian towns, plus words that make names.
            words=_unique([faker.city_name().split(" (")[0] for _ in range(1500)] + NICE_WORDS),
            streets=_unique([faker.street_address() for _ in range(600)]),
        )


class _PhoneBook:
    """Unique Ukrainian numbers: each area or operator code hands out its own sequence, scrambled."""

    def __init__(self) -> None:
        self.next_index: dict[str, int] = {}

    def new(self, code: str) -> str:
        """A new number for a two-digit code ("67", "44"), E.164: "+38067…"."""
        index = self.next_index.get(code, 0)
        self.next_index[code] = index + 1
        # A bijection on 0..5,999,999 (a multiplier coprime with 6,000,000), so numbers never repeat;
        # subscriber numbers start with 2–7 like real ones.
        subscriber = 2_000_000 + (index * 2_654_437 + int(code) * 104_729) % 6_000_000
        return f"+380{code}{subscriber}"


def phone_display(e164: str) -> str:
    """E.164 "+380671234567" -> "+380 67 123 45 67" (how the seeded values are written)."""
    return f"{e164[:4]} {e164[4:6]} {e164[6:9]} {e164[9:11]} {e164[11:13]}"


def _phone_row(e164: str) -> tuple[str, str, str]:
    return phone_display(e164), e164, e164[1:][::-1]


class _Clock:
    """Timestamps as COPY text ("2025-03-14 08:23:11+00"), so many seconds before the anchor.

    psycopg formats a datetime for COPY in ~2 µs; three per interaction made formatting the
    slowest part of the 5M-row load. Text from two lookup tables is a string concatenation.
    """

    def __init__(self, anchor: datetime) -> None:
        if anchor.utcoffset() != timedelta(0) or anchor.time() != time(0):
            raise ValueError("the anchor is a UTC midnight")
        self.anchor = anchor
        self._dates: dict[int, str] = {}
        self._times = [f"{h:02d}:{m:02d}:{sec:02d}+00" for h in range(24) for m in range(60) for sec in range(60)]

    def ago(self, seconds: int) -> str:
        day, second = divmod(-seconds, 86400)
        date = self._dates.get(day)
        if date is None:
            date = self._dates[day] = f"{(self.anchor + timedelta(days=day)).date().isoformat()} "
        return date + self._times[second]


# --- Users ------------------------------------------------------------------------------------------


def _owner_table(ctx: SeedContext) -> tuple[list[tuple[int, int | None]], tuple[int, int | None]]:
    """Weighted (user id, team id) owners: representatives get most clients, managers a few."""
    users: list[User] = ctx.shared["users"]
    ids = [u.pk for u in users]
    reps = set(User.objects.filter(pk__in=ids, groups__name=Role.SALES_REP).values_list("pk", flat=True))
    managers = set(User.objects.filter(pk__in=ids, groups__name=Role.SALES_MANAGER).values_list("pk", flat=True))
    weighted: list[tuple[tuple[int, int | None], float]] = []
    demo_rep: tuple[int, int | None] | None = None
    for user in users:
        owner = (user.pk, user.team_id)
        if user.email == DEMO_REP_EMAIL:
            demo_rep = owner
        if user.pk in reps:
            # The demo logins get a double share so their lists look busy.
            weighted.append((owner, 20 if user.email.startswith("sales") else 10))
        elif user.pk in managers:
            weighted.append((owner, 2))
    if demo_rep is None or not weighted:
        raise RuntimeError("contacts.seed needs the users of crm.seed (ctx.shared['users'])")
    return _weighted_table(weighted, size=max(1000, 20 * len(weighted))), demo_rep


# --- Bulk loading -------------------------------------------------------------------------------------


def _reserve_ids(table: str, count: int) -> int:
    """Reserve `count` consecutive ids from the table's identity sequence; return the first."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (sequence,) = cursor.fetchone()
        cursor.execute("SELECT nextval(%s)", [sequence])
        (first,) = cursor.fetchone()
        if count > 1:
            cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return first


@contextmanager
def _bulk_load(tables: Sequence[str], *, enabled: bool) -> Iterator[None]:
    """Drop the tables' secondary indexes and foreign keys for the load; rebuild them after.

    COPY into a table maintains every index row by row, and Django's deferred foreign keys queue one
    check per row until commit (~20M checks at size L). Rebuilding an index is a sort; re-adding a
    foreign key validates all rows with one join. Definitions are read from the catalog, so this
    follows the models' indexes without naming them. It runs inside seed_demo's transaction: if
    anything fails, the drops roll back with the data.
    """
    if not enabled:
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("_bulk_load drops indexes: run it inside a transaction")
    tables = list(tables)
    with connection.cursor() as cursor:
        # Indexes that back a constraint (primary keys, unique) stay: foreign keys point at them.
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            JOIN pg_class c ON c.relname = i.indexname
              AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = i.schemaname)
            WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)
            ORDER BY i.tablename, i.indexname
            """,
            [tables],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            """
            SELECT k.conrelid::regclass::text, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k
            WHERE k.contype = 'f' AND k.conrelid = ANY(%s::regclass[])
            ORDER BY 1, 2
            """,
            [tables],
        )
        foreign_keys = cursor.fetchall()
        # Earlier seeders left deferred foreign-key checks queued (e.g. notifications -> users), and
        # PostgreSQL refuses to alter a table with pending trigger events: run those checks now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        # Memory for the GROUP BY of `_set_last_contact` and for the index sorts (to the end of the load).
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        for table, name, _definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}")
        # Statistics of expression indexes (UPPER(name) for the trigram search) exist only once the
        # index does: analyse again now that they are back.
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
        cursor.execute("SET LOCAL work_mem TO DEFAULT")
        cursor.execute("SET LOCAL maintenance_work_mem TO DEFAULT")


# --- Seeders --------------------------------------------------------------------------------------------


@dataclass
class _Companies:
    """What later tables need of each company, by index (id = first_id + index)."""

    first_id: int
    owner_ids: array = field(default_factory=lambda: array("q"))
    team_ids: list[int | None] = field(default_factory=list)
    shared: bytearray = field(default_factory=bytearray)
    # Seconds between the company's creation and the anchor: its history happens in that window.
    age_seconds: array = field(default_factory=lambda: array("q"))
    names: list[str] = field(default_factory=list)
    short_names: list[str] = field(default_factory=list)
    edrpous: list[str] = field(default_factory=list)
    legal_forms: list[str] = field(default_factory=list)
    # A sole proprietor's own name (indices into the people pools), the person of the FOP.
    fop_names: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    phones: list[str] = field(default_factory=list)  # E.164 of the main number (duplicates share it)
    emails: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)


@dataclass
class _People:
    """Each company's people are the contiguous ids first[c] .. first[c] + count[c] - 1."""

    first: array
    count: array
    last_names: array  # index into _Pools.last
    first_names: array  # index into _Pools.first


def seed(ctx: SeedContext) -> None:
    clock = _Clock(timezone.now().replace(hour=0, minute=0, second=0, microsecond=0))
    pools = _Pools.build(ctx.faker)
    owners, demo_rep = _owner_table(ctx)
    industry_ids = [i.pk for i in Industry.objects.bulk_create(Industry(name=name) for name in INDUSTRIES)]

    n_companies = ctx.pick(300, 25_000, 250_000)
    n_people = ctx.pick(900, 100_000, 1_000_000)
    n_points = ctx.pick(2_000, 200_000, 2_000_000)
    n_interactions = ctx.pick(3_000, 500_000, 5_000_000)
    demo_interactions = ctx.pick(500, 5_000, 5_000)

    phones = _PhoneBook()
    with _bulk_load(TABLES, enabled=ctx.size in BULK_LOAD_SIZES):
        companies = _seed_companies(ctx, clock, pools, owners, demo_rep, industry_ids, phones, n_companies)
        people = _seed_people(ctx, clock, pools, companies, n_people)
        _seed_contact_points(ctx, clock, pools, companies, people, phones, n_points)
        _seed_interactions(ctx, clock, companies, people, n_interactions, demo_interactions)
        _set_last_contact()

    ctx.shared.update(
        company_ids=range(companies.first_id, companies.first_id + n_companies),
        company_owner_ids=companies.owner_ids,
        person_ids=range(people.first[0], people.first[0] + n_people),
        company_first_person_id=people.first,
        company_people_count=people.count,
        demo_client_id=companies.first_id,
    )
    import_module("contacts.seed_activities").seed(ctx)  # activities, reminders, work plans (issue 5)


def _company_body(rng: random.Random, pools: _Pools) -> str:
    """The name without the legal form: "Агросвіт", "Коваленко і партнери", "Бойко-Мельник", "Умань-Агро".

    Mixed so that at size L a name repeats a few dozen times at most, as common names do in the
    register, and the duplicates page is not flooded with unrelated namesakes.
    """
    kind = rng.random()
    if kind < 0.55:
        first = rng.choice(pools.last_male)
        if kind < 0.2:
            return f"{first} {rng.choice(SURNAME_TAILS)}"
        second = rng.choice(pools.last_male)
        return f"{first}-{second}" if second != first else f"{first} і партнери"  # the founders, like Faker's
    if kind < 0.9:
        word, tail = rng.choice(pools.words), rng.choice(WORD_TAILS)
        return f"{word}-{tail}" if rng.random() < 0.5 else f"{word} {tail}"
    stem = rng.randrange(len(STEMS))
    tail = rng.randrange(len(STEM_TAILS))
    if STEM_TAILS[tail] == STEMS[stem].lower():
        tail = (tail + 1) % len(STEM_TAILS)
    brand = STEMS[stem] + STEM_TAILS[tail]
    return brand if kind < 0.95 else f"{brand} {rng.choice(pools.words)}"


def _near_duplicate(rng: random.Random, name: str, body: str) -> str:
    """The same client typed differently: other quotes, upper case, the form after the name, a typo."""
    match rng.randrange(4):
        case 0 if "«" in name:
            return name.replace("«", '"').replace("»", '"')
        case 1:
            return name.replace(body, body.upper())
        case 2 if "«" in name:
            return f"{body} {name.split(' ', 1)[0]}"
        case _:
            if len(body) < 4:
                return name + "."
            i = 1 + rng.randrange(len(body) - 3)
            return name.replace(body, body[:i] + body[i + 1] + body[i] + body[i + 2 :])


def _seed_companies(
    ctx: SeedContext,
    clock: _Clock,
    pools: _Pools,
    owners: list[tuple[int, int | None]],
    demo_rep: tuple[int, int | None],
    industry_ids: list[int],
    phones: _PhoneBook,
    count: int,
) -> _Companies:
    rng = ctx.rng
    co = _Companies(first_id=_reserve_ids("contacts_company", count), shared=bytearray(count))
    regions = _weighted_table([(r, r[1]) for r in REGIONS])
    forms = _weighted_table([(f, f[1]) for f in LEGAL_FORMS])
    role_sets = _weighted_table([(r, r[1]) for r in ROLE_SETS])
    sizes = _weighted_table(SIZES)
    team_owners: dict[int | None, list[tuple[int, int | None]]] = {}
    for owner in owners:
        team_owners.setdefault(owner[1], []).append(owner)
    n_last_male, n_first_male = len(pools.last_male), len(pools.first_male)
    used_prefixes = {DEMO_CLIENT_EDRPOU[:7], "6000000"}
    domains_seen: dict[str, int] = {}
    six_years = 6 * 365 * 86400

    def new_edrpou() -> str:
        while True:
            first7 = f"{rng.randrange(10_000_000):07d}"
            if first7 not in used_prefixes:
                used_prefixes.add(first7)
                return first7 + edrpou_check_digit(first7)

    def rows() -> Iterator[tuple]:
        for i in range(count):
            region, _w, cities, area_code, postcode = regions[int(rng.random() * len(regions))]
            city = cities[0] if rng.random() < 0.6 else rng.choice(cities)
            form, _w, prefix = forms[int(rng.random() * len(forms))]
            roles, _w, family = role_sets[int(rng.random() * len(role_sets))]
            owner_id, team_id = owners[int(rng.random() * len(owners))]
            size = sizes[int(rng.random() * len(sizes))]
            # Most clients are years old, some new this year (the "created" filter finds both).
            age = int(rng.random() * six_years) if rng.random() < 0.85 else int(rng.random() * 365 * 86400)
            age = max(age, 7 * 86400)
            status = CompanyStatus.ACTIVE
            if family != "prospect" and rng.random() > 0.75:
                status = CompanyStatus.DORMANT if rng.random() < 0.6 else CompanyStatus.LOST
            tax_number = ""
            # Every 50 companies, one exact duplicate (the same client entered again: same name, code and
            # phone) and one near duplicate (name typed differently, no code; the same phone and e-mail).
            original = rng.randrange(1, i) if i > 50 and i % 50 in (17, 41) else None
            if i == 0:
                # The demo client: the demo representative's, with the long history and many people.
                name, body, edrpou = DEMO_CLIENT_NAME, "Київська торгова група", DEMO_CLIENT_EDRPOU
                form, roles, status, size = LegalForm.TOV, "{customer,partner}", CompanyStatus.ACTIVE, CompanySize.LARGE
                region, city, area_code, postcode = Region.KYIV_CITY, "Київ", "44", "0"
                owner_id, team_id = demo_rep
                age = six_years
            elif original is not None:
                # Entered again in the same regional team, so the team's manager sees both.
                owner_id, team_id = rng.choice(team_owners[co.team_ids[original]])
                name, body, edrpou = co.names[original], co.short_names[original], co.edrpous[original]
                form = co.legal_forms[original]
                if i % 50 == 41:
                    name, edrpou = _near_duplicate(rng, name, body), ""
                if original in co.fop_names:
                    co.fop_names[i] = co.fop_names[original]
            elif form == LegalForm.FOP:
                male = rng.random() < 0.55
                li = int(rng.random() * n_last_male) if male else n_last_male + rng.randrange(len(pools.last_female))
                fi = int(rng.random() * n_first_male) if male else n_first_male + rng.randrange(len(pools.first_female))
                pi = rng.randrange(len(pools.patronymic_male) if male else len(pools.patronymic_female))
                last, first = pools.last[li], pools.first[fi]
                patronymic = (pools.patronymic_male if male else pools.patronymic_female)[pi]
                co.fop_names[i] = (li, fi, pi if male else -1 - pi)
                body = f"ФОП {last} {first[0]}. {patronymic[0]}."
                name, edrpou, size = f"ФОП {last} {first} {patronymic}", "", CompanySize.MICRO
                tax_number = str(rng.randrange(1_000_000_000, 4_000_000_000))  # a person's tax number, no EDRPOU
            else:
                body = _company_body(rng, pools)
                name, edrpou = f"{prefix} «{body}»", new_edrpou()
                if rng.random() < 0.4:
                    tax_number = str(rng.randrange(10**11, 10**12))  # a VAT payer's number

            # Contact details the contact points use; duplicates share them with their original.
            if original is not None:
                phone, email, domain = co.phones[original], co.emails[original], co.domains[original]
            else:
                code = area_code if area_code and rng.random() < 0.7 else MOBILE_CODES[int(rng.random() * 12)]
                phone = phones.new(code)
                if form == LegalForm.FOP:
                    domain = ""
                    email = f"{translit(name.split()[1])}.{translit(name.split()[2])}@{rng.choice(FREE_MAIL)}"
                else:
                    base = translit(body)[:24] or "firma"
                    seen = domains_seen.get(base, 0)
                    domains_seen[base] = seen + 1
                    domain = f"{base}{seen or ''}.{'com.ua' if rng.random() < 0.7 else 'ua'}"
                    email = f"{rng.choice(('info', 'office', 'sales', 'zakaz'))}@{domain}"
            digits = 5 - len(postcode)
            address = f"{postcode}{rng.randrange(10**digits):0{digits}d}, м. {city}, {rng.choice(pools.streets)}"

            co.owner_ids.append(owner_id)
            co.team_ids.append(team_id)
            co.shared[i] = rng.random() < 0.1
            co.age_seconds.append(age)
            co.names.append(name)
            co.short_names.append(body)
            co.edrpous.append(edrpou)
            co.legal_forms.append(form)
            co.phones.append(phone)
            co.emails.append(email)
            co.domains.append(domain)
            co.addresses.append(address)

            created = clock.ago(age)
            tags = [t for t in TAGS if rng.random() < 0.06]
            interests = [t for t in INTERESTS if rng.random() < 0.1]
            yield (
                co.first_id + i, created, created, name, body, form, edrpou, tax_number, roles, status,
                industry_ids[int(rng.random() * len(industry_ids))] if rng.random() < 0.9 else None,
                size, region, city, address, address if rng.random() < 0.6 else "",
                f"https://{domain}" if domain and rng.random() < 0.7 else "",
                SOURCES[int(rng.random() * len(SOURCES))],
                "{" + ",".join(tags) + "}", NEEDS[int(rng.random() * len(NEEDS))],
                "{" + ",".join(f'"{t}"' for t in interests) + "}",
                COMPANY_NOTES[int(rng.random() * len(COMPANY_NOTES))], owner_id, team_id, bool(co.shared[i]),
            )  # fmt: skip

    ctx.copy_rows(
        "contacts_company",
        ["id", "created_at", "updated_at", "name", "short_name", "legal_form", "edrpou", "tax_number", "roles",
         "status", "industry_id", "size", "region", "city", "legal_address", "delivery_address", "website", "source",
         "tags", "needs", "interests", "notes", "owner_id", "team_id", "is_shared"],
        rows(),
        count,
    )  # fmt: skip
    return co


def _seed_people(ctx: SeedContext, clock: _Clock, pools: _Pools, co: _Companies, total: int) -> _People:
    rng = ctx.rng
    n_companies = len(co.names)
    # One person per company (a sole proprietor is exactly one), the demo client a whole department,
    # the rest spread with a skew: a few big clients with dozens of contacts, most with two to five.
    counts = array("l", [1]) * n_companies
    counts[0] = ctx.pick(10, 25, 25)
    eligible = [c for c in range(1, n_companies) if co.legal_forms[c] != LegalForm.FOP]
    rng.shuffle(eligible)
    for _ in range(total - sum(counts)):
        counts[eligible[int(len(eligible) * rng.random() ** 1.5)]] += 1
    first_id = _reserve_ids("contacts_person", total)
    first = array("q", [0]) * n_companies
    people = _People(first=first, count=counts, last_names=array("l"), first_names=array("l"))

    n_last_male, n_first_male = len(pools.last_male), len(pools.first_male)
    n_last_female, n_first_female = len(pools.last_female), len(pools.first_female)
    # A leap year's days, so 29 February is a birthday too.
    days = [(d.month, d.day) for d in (datetime(2024, 1, 1) + timedelta(days=n) for n in range(366))]
    leap_years = list(range(1956, 2005, 4))
    languages = ["uk"] * 16 + ["en"] + [""] * 3
    channels = [*Channel.values, "", "", ""]

    def rows() -> Iterator[tuple]:
        pk = first_id
        for c in range(n_companies):
            first[c] = pk
            owner_id, team_id, shared = co.owner_ids[c], co.team_ids[c], bool(co.shared[c])
            company_id, age = co.first_id + c, co.age_seconds[c]
            fop = co.fop_names.get(c)
            for k in range(counts[c]):
                if fop is not None:
                    li, fi, pi = fop
                    male = pi >= 0
                    position = "Фізична особа-підприємець"
                else:
                    male = rng.random() < 0.5
                    if male:
                        li, fi = int(rng.random() * n_last_male), int(rng.random() * n_first_male)
                    else:
                        li = n_last_male + int(rng.random() * n_last_female)
                        fi = n_first_male + int(rng.random() * n_first_female)
                    pi = int(rng.random() * 1000)
                    position = HEAD_POSITIONS[pi % 5] if k == 0 else POSITIONS[pi % len(POSITIONS)]
                if male:
                    patronymic = pools.patronymic_male[pi % len(pools.patronymic_male)]
                else:
                    patronymic = pools.patronymic_female[(-1 - pi if pi < 0 else pi) % len(pools.patronymic_female)]
                people.last_names.append(li)
                people.first_names.append(fi)
                month = day = year = None
                if (pk - first_id) % 300 == 150:
                    month, day = 2, 29  # a few leap-day birthdays for certain (the birthday task's edge case)
                elif rng.random() < 0.85:
                    month, day = days[int(rng.random() * 366)]
                if month is not None and rng.random() < 0.6:
                    year = rng.choice(leap_years) if (month, day) == (2, 29) else 1955 + int(rng.random() * 49)
                created = clock.ago(age - int(rng.random() * age * 0.5))
                yield (
                    pk, created, created, pools.last[li], pools.first[fi], patronymic, position, company_id,
                    day, month, year, languages[int(rng.random() * 20)], channels[int(rng.random() * len(channels))],
                    "", owner_id, team_id, shared,
                )  # fmt: skip
                pk += 1

    ctx.copy_rows(
        "contacts_person",
        ["id", "created_at", "updated_at", "last_name", "first_name", "patronymic", "position", "company_id",
         "birth_day", "birth_month", "birth_year", "language", "preferred_channel", "notes", "owner_id", "team_id",
         "is_shared"],
        rows(),
        total,
    )  # fmt: skip
    return people


def _seed_contact_points(
    ctx: SeedContext, clock: _Clock, pools: _Pools, co: _Companies, people: _People, phones: _PhoneBook, total: int
) -> None:
    """Every company a phone and an e-mail, every person a mobile; the rest spread evenly as extras:
    companies get a second phone, a fax, a postal address or a web site; people an e-mail, Telegram,
    Viber or a second mobile. The first point of a kind is the primary one."""
    rng = ctx.rng
    n_companies, n_people = len(co.names), len(people.last_names)
    entities = n_companies + n_people
    extras = max(0, total - 2 * n_companies - n_people)
    last_latin = [translit(n) for n in pools.last]
    first_latin = [translit(n) for n in pools.first]
    kind = ContactPointKind

    def extra_count(j: int) -> int:
        return (j + 1) * extras // entities - j * extras // entities

    def rows() -> Iterator[tuple]:
        for c in range(n_companies):
            company_id, created = co.first_id + c, clock.ago(co.age_seconds[c])
            common = (created, created)
            yield (*common, kind.PHONE, "", *_phone_row(co.phones[c]), True, company_id, None)
            yield (*common, kind.EMAIL, "", co.emails[c], co.emails[c], "", True, company_id, None)
            for _ in range(extra_count(c)):
                pick = rng.random()
                if pick < 0.5:
                    label = CP_LABELS_COMPANY[int(rng.random() * len(CP_LABELS_COMPANY))]
                    number = phones.new(co.phones[c][4:6])
                    yield (*common, kind.PHONE, label, *_phone_row(number), False, company_id, None)
                elif pick < 0.65:
                    number = phones.new(co.phones[c][4:6])
                    yield (*common, kind.FAX, "", *_phone_row(number), True, company_id, None)
                elif pick < 0.85 or not co.domains[c]:
                    address = co.addresses[c]
                    yield (*common, kind.ADDRESS, "Для листів", address, address, "", True, company_id, None)
                else:
                    site = f"https://{co.domains[c]}"
                    yield (*common, kind.WEBSITE, "", site, site, "", True, company_id, None)
        j = n_companies
        pk = people.first[0]
        for c in range(n_companies):
            created = clock.ago(co.age_seconds[c] // 2)
            common = (created, created)
            domain = co.domains[c]
            for _ in range(people.count[c]):
                n = pk - people.first[0]
                last, first = last_latin[people.last_names[n]], first_latin[people.first_names[n]]
                mobile = phones.new(MOBILE_CODES[int(rng.random() * 12)])
                yield (*common, kind.MOBILE, "", *_phone_row(mobile), True, None, pk)
                has_email = False
                for _ in range(extra_count(j)):
                    pick = rng.random()
                    if pick < 0.6 and not has_email:
                        has_email = True
                        if domain and rng.random() < 0.7:
                            email = f"{first[:1]}.{last}@{domain}"
                        else:
                            email = f"{last}.{first}{int(rng.random() * 90) + 10}@{FREE_MAIL[int(rng.random() * 6)]}"
                        yield (*common, kind.EMAIL, "", email, email, "", True, None, pk)
                    elif pick < 0.75:
                        handle = f"@{last}_{first[:1]}{int(rng.random() * 1000)}"
                        yield (*common, kind.TELEGRAM, "", handle, handle, "", True, None, pk)
                    elif pick < 0.9:
                        yield (*common, kind.VIBER, "", *_phone_row(mobile), True, None, pk)
                    else:
                        second = phones.new(MOBILE_CODES[int(rng.random() * 12)])
                        yield (*common, kind.MOBILE, "Особистий", *_phone_row(second), False, None, pk)
                j += 1
                pk += 1

    ctx.copy_rows(
        "contacts_contactpoint",
        ["created_at", "updated_at", "kind", "label", "value", "normalized", "digits_reversed", "is_primary",
         "company_id", "person_id"],
        rows(),
        total,
    )  # fmt: skip


# Interval text for COPY (see _Clock): calls of 20 s to 25 min, meetings of half an hour to three hours.
DURATIONS = {
    "call": [str(timedelta(seconds=s)) for s in range(20, 1500, 7)],
    "meeting": [str(timedelta(minutes=m)) for m in range(30, 181, 15)],
    "": [None],
}


def _interaction_templates() -> list[tuple[str, str, str, list[str | None]]]:
    """(channel, direction, subject, durations), weighted by how often each channel happens."""
    items = []
    for channel, weight, directions, subjects, duration in CHANNELS:
        for direction in directions:
            for subject in subjects:
                entry = (channel, direction, subject, DURATIONS[duration])
                items.append((entry, weight / len(directions) / len(subjects)))
    return _weighted_table(items, size=4000)


def _seed_interactions(
    ctx: SeedContext, clock: _Clock, co: _Companies, people: _People, total: int, demo_count: int
) -> None:
    """The last three years of contacts, by the company's owner, with one of its people or nobody in
    particular. The demo client gets `demo_count`; 12% of the others (new prospects) none yet."""
    rng = ctx.rng
    others = list(range(1, len(co.names)))
    rng.shuffle(others)
    active = others[: max(1, int(len(others) * 0.88))]
    templates = _interaction_templates()
    # A company's history fits between its creation and yesterday, at most three years back.
    window_days = array("l", (min(age // 86400, 3 * 365) for age in co.age_seconds))
    first_person, people_count, owner_ids, first_company_id = people.first, people.count, co.owner_ids, co.first_id
    n_templates, n_active, n_outcomes, n_bodies = len(templates), len(active), len(OUTCOMES), len(BODIES)
    random_, ago = rng.random, clock.ago

    def rows() -> Iterator[tuple]:
        for n in range(total):
            # The skew gives some clients hundreds of contacts and many a handful.
            c = 0 if n < demo_count else active[int(n_active * random_() ** 1.3)]
            # Working hours: 06:00–16:00 UTC is 08:00/09:00–18:00/19:00 in Kyiv.
            occurred = ago((1 + int(random_() * window_days[c])) * 86400 - 21600 - int(random_() * 36000))
            channel, direction, subject, durations = templates[int(random_() * n_templates)]
            count = people_count[c]
            yield (
                occurred, occurred, channel, direction, occurred, durations[int(random_() * len(durations))],
                subject, BODIES[int(random_() * n_bodies)], OUTCOMES[int(random_() * n_outcomes)],
                first_company_id + c, first_person[c] + int(random_() * count) if random_() < 0.75 else None,
                owner_ids[c],
            )  # fmt: skip

    ctx.copy_rows(
        "contacts_interaction",
        ["created_at", "updated_at", "channel", "direction", "occurred_at", "duration", "subject", "body", "outcome",
         "company_id", "person_id", "user_id"],
        rows(),
        total,
    )  # fmt: skip


def _set_last_contact() -> None:
    """The "last contact" of companies and people from their interactions, one set-based UPDATE each."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE contacts_company c SET last_contact_at = m.last
            FROM (SELECT company_id, max(occurred_at) AS last FROM contacts_interaction GROUP BY company_id) m
            WHERE c.id = m.company_id
            """
        )
        cursor.execute(
            """
            UPDATE contacts_person p SET last_contact_at = m.last
            FROM (SELECT person_id, max(occurred_at) AS last FROM contacts_interaction
                  WHERE person_id IS NOT NULL GROUP BY person_id) m
            WHERE p.id = m.person_id
            """
        )
        cursor.execute("ANALYZE contacts_company")
        cursor.execute("ANALYZE contacts_person")
