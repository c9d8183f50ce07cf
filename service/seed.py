"""Service desk demo data (issue 7, items 12 and 13): the service team and its agents, tickets with their
threads, status timelines and SLA deadlines, the knowledge base, and the report rollups.

Called by `seed_demo` last (after deals.seed: tickets point at the companies, people, contracts, orders and
products of the seeders below, from `ctx.shared` and the database). Sizes:

    |                                         | S    | M       | L         |
    |-----------------------------------------|------|---------|-----------|
    | tickets                                 | 40   | 20,000  | 200,000   |
    |   open (new, open, waiting, reopened)   | 17   | ~600    | ~6,000    |
    |   with exactly 50 messages (bench card) | 2    | 3       | 5         |
    | messages                                | ~200 | ~60,000 | ~600,000  |
    | status changes                          | ~160 | ~90,000 | ~900,000  |
    | knowledge base articles                 | 30   | 100     | 500       |
    | extra service agents                    | 2    | 6       | 12        |

What the rows look like:
- The team settings.SERVICE_TEAM ("Сервіс"), managed by the demo user service.manager@example.com (a service
  agent who manages the team), with service@example.com and the extra agents in it.
- 40 hand-written tickets (CURATED) at every size, mostly the service@example.com agent's: Ukrainian requests
  about delivery, invoices, defects, warranty and returns, linked to the seeded companies, people, orders and
  products; new ones in the team's queue, open, waiting, resolved (rated) and closed ones, one reopened, one
  from an unknown sender to qualify, two whose resolution is due within the hour and three already breached.
- At M and L the rest are built from templates per category: about 3% open, spread over the service team and
  the sales teams "Продажі — Київ" and "Продажі — Львів" (their managers work them), the others resolved or
  closed over the last one (M) or two (L) years, a third rated. Every ticket's first answer and resolution
  deadlines follow its SLA policy exactly as service.services.due_times computes them (the policy of the
  company's active contract's service level, else the default; `_BusinessClock`), moved on by the business
  time spent waiting for the client, as the services do; breach flags and `escalated_at` as the escalation
  task and the services would have set them. Open tickets' deadlines lie around the seeding time: a tenth of them run
  around the clock (Преміум 24/7) with the resolution due between two hours ago and four hours ahead, so
  "due within the hour" has rows at any time of day.
- Messages (1–6 per ticket): the client's e-mails (inbound, with a Message-ID), public replies by the agent
  (e-mailed), internal notes; the status timeline (TicketStatusChange) follows them the way the services move
  a ticket: new → open on assignment, a reply → waiting, the client's answer → open, the resolving reply →
  resolved, a few days later → closed; the client's mail after the resolution → reopened.
- Tickets of the bench manager's companies (bench/pages.py BENCH_USER sees them) include the long threads
  of exactly 50 messages that the bench opens ("service-ticket-card").
- Knowledge base: 30 hand-written articles in Ukrainian and English (problem, symptoms, solution), public and
  internal, with categories and products; at M and L more from templates per catalogue item. `solved_count`
  is the number of ArticleUse rows ("this solved it") of resolved tickets. The search vector is filled by one
  UPDATE through service.kb.search_vector().
- TicketNumber holds the last number of each year; numbers S-YYYY-NNNNNN follow the creation order (Kyiv
  years), and so do the ids.
- ServiceDailyRollup is computed for the whole history by service.reports.rollups_compute.

Speed: tickets, messages and status changes are built in Python from the seeded rng and loaded with COPY in
chunks (deals.seed's pattern), ids reserved up front, the three big tables' secondary indexes and foreign
keys dropped around the load at M and L (contacts.seed._bulk_load). Each ticket's story is drawn from its own
seeded generator, so it is built twice (once to know its creation time, which orders ids and numbers, once
to write it) without keeping 200,000 stories in memory. Deadlines come from per-day tables of business
seconds (`_BusinessClock`) instead of service.sla's day-by-day walk: the same instants, a million of them at L.
No simple-history rows and no interactions in the clients' history (as in deals.seed).

Dates: history is relative to today 00:00 UTC (deals.seed's anchor); "now" for the open tickets is the start
of the current minute (the deadlines that are "due within the hour" must be so when the seeding ends), so a
second run makes the same rows only when run at the same minute (tests freeze the clock).

Measured on this machine (2 cores shared with other test runs): S 0.3 s of a ~1 s `seed_demo --size S`; M 7–8 s;
L 48 s of a 443 s `seed_demo --size L` (200,000 tickets, 598,578 messages, 903,888 status changes, 500 articles,
23,185 article uses, 336,187 rollup rows), index and foreign-key rebuild and rollups included.
"""

from __future__ import annotations

import random
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone
from django.utils.html import linebreaks

from contacts.seed import BULK_LOAD_SIZES, _bulk_load, _Clock, _reserve_ids, _weighted_table
from crm.models import Role, Team, User
from crm.seeding import DEMO_PASSWORD, SeedContext
from deals.seed import CATALOGUE, _Batch, _Time
from service.kb import search_vector
from service.models import (
    ArticleUse,
    KnowledgeArticle,
    MessageKind,
    SlaPolicy,
    TicketCategory,
    TicketChannel,
    TicketPriority,
    TicketStatus,
)
from service.sla import KYIV, BusinessHours, is_working_day

SERVICE_AGENT_EMAIL = "service@example.com"
SERVICE_MANAGER = ("service.manager@example.com", "Галина Керівниця Сервісу")
# The bench signs in as this sales manager (bench/pages.py BENCH_USER): tickets of its companies are visible to
# it, and the long threads of the bench's ticket card are among them.
BENCH_MANAGER_EMAIL = "manager@example.com"
LONG_THREAD = 50  # messages of the bench's ticket card
BIG_TABLES = ("service_ticket", "service_ticketmessage", "service_ticketstatuschange")
CHUNK = 10_000  # tickets per round of COPYs
DAY = 86_400
HOUR = 3_600
MIN = 60
SUPPORT_DOMAIN = settings.SERVICE_EMAIL.rpartition("@")[2] or "example.com"

NEW, OPEN, WAITING = TicketStatus.NEW.value, TicketStatus.OPEN.value, TicketStatus.WAITING.value
RESOLVED, CLOSED, REOPENED = TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value, TicketStatus.REOPENED.value
DONE = (RESOLVED, CLOSED)
# Message kinds of a story: the client's mail, a reply (the ticket then waits), the reply that resolves it, a note.
IN, RE, RES, NOTE = "in", "re", "res", "note"
KIND_OF = {IN: MessageKind.INBOUND.value, RE: MessageKind.REPLY.value, RES: MessageKind.REPLY.value,
           NOTE: MessageKind.NOTE.value}  # fmt: skip
CLIENT_ANSWERED = "Клієнт відповів."  # the services' comment (gettext "The client answered.") in the UI language


@dataclass(frozen=True)
class _Size:
    tickets: int  # in all, the curated ones included
    window_days: int  # closed tickets were created over this many days
    articles: int  # in all, the curated ones included
    long_threads: int  # tickets of LONG_THREAD messages, the two curated ones included
    extra_agents: int


SIZES = {
    "S": _Size(0, 60, 0, 2, 2),
    "M": _Size(20_000, 365, 100, 3, 6),
    "L": _Size(200_000, 730, 500, 5, 12),
}
OPEN_SHARE = 0.03
# Final statuses of the open generated tickets.
OPEN_MIX = [(NEW, 25), (OPEN, 35), (WAITING, 28), (REOPENED, 12)]
CHANNELS = [(TicketChannel.EMAIL.value, 45), (TicketChannel.PHONE.value, 25), (TicketChannel.PORTAL.value, 15),
            (TicketChannel.WEB_FORM.value, 8), (TicketChannel.MESSENGER.value, 7)]  # fmt: skip
PRIORITIES = [(TicketPriority.LOW.value, 15), (TicketPriority.NORMAL.value, 60), (TicketPriority.HIGH.value, 20),
              (TicketPriority.URGENT.value, 5)]  # fmt: skip
MESSAGE_COUNTS = [(1, 17), (2, 29), (3, 23), (4, 15), (5, 9), (6, 7)]  # about 3 a ticket, with the 50s
RATINGS = [(5, 55), (4, 25), (3, 10), (2, 5), (1, 5)]
CSAT_COMMENTS = {
    5: ["", "", "", "Швидко і по суті, дякую!", "Дякую за оперативність.", "Все вирішили за один день."],
    4: ["", "", "Добре, але довелося нагадувати.", "Дякую, вирішили."],
    3: ["", "Вирішили, але довго.", "Відповідь прийшла лише на другий день."],
    2: ["Довго чекали відповіді.", "Довелося кілька разів пояснювати одне й те саме."],
    1: ["Проблему так і не вирішили як слід.", "Жодного дзвінка, лише шаблонні листи."],
}


# --- Business time --------------------------------------------------------------------------------------------


class _BusinessClock:
    """Business seconds of one SLA policy's hours for instants given as seconds from the anchor.

    `b(t)` is the number of working seconds from the start of the range to t, `t(v)` the instant at which v
    working seconds have passed (a deadline that ends a working day exactly stays on that day). Built per day
    from service.sla (its working days, its windows in Europe/Kyiv), so `t(b(start) + minutes * 60)` is
    service.sla.add_business_minutes(start, minutes) for whole-second instants, in two bisects.
    """

    def __init__(self, anchor: datetime, first_day: int, last_day: int, hours: BusinessHours) -> None:
        self.around = hours.around_the_clock
        self.starts: list[int] = []
        self.opens: list[int] = []
        self.lengths: list[int] = []
        self.cum: list[int] = []
        self.ends: list[int] = []
        if self.around:
            return
        total = 0
        base = anchor.date()
        for d in range(first_day, last_day + 1):
            day = base + timedelta(days=d)
            self.starts.append(_seconds(datetime.combine(day, time(0), tzinfo=KYIV), anchor))
            opens = _seconds(datetime.combine(day, hours.day_starts, tzinfo=KYIV), anchor)
            closes = _seconds(datetime.combine(day, hours.day_ends, tzinfo=KYIV), anchor)
            length = closes - opens if is_working_day(day) else 0
            self.opens.append(opens)
            self.lengths.append(length)
            self.cum.append(total)
            total += length
            self.ends.append(total)

    def b(self, t: int) -> int:
        if self.around:
            return t
        i = bisect_right(self.starts, t) - 1
        if i < 0 or i >= len(self.starts) - 1:
            raise ValueError(f"instant {t} outside the seeded range of days")
        return self.cum[i] + min(max(t - self.opens[i], 0), self.lengths[i])

    def t(self, v: int) -> int:
        if self.around:
            return v
        i = bisect_left(self.ends, v)
        if i >= len(self.ends):
            raise ValueError(f"business time {v} outside the seeded range of days")
        return self.opens[i] + v - self.cum[i]


def _seconds(moment: datetime, anchor: datetime) -> int:
    return int((moment - anchor).total_seconds())


@dataclass(frozen=True)
class _Policy:
    id: int
    clock: _BusinessClock
    targets: dict[str, tuple[int, int]]  # priority -> (first answer, resolution) in seconds


# --- Texts ------------------------------------------------------------------------------------------------------
# Placeholders: {order} (order number), {product}, {client} (the client's full name), {client_first}, {agent},
# {number} (the ticket's number). The HTML of a message is django.utils.html.linebreaks of its text, as the
# services make it from a plain-text mail.

DELIVERY, BILLING, QUALITY, WARRANTY, ADVICE, RETURNS = (
    "Доставка", "Оплата і рахунки", "Якість товару", "Гарантія і ремонт", "Консультація", "Повернення",
)  # fmt: skip
CATEGORY_WEIGHTS = [(DELIVERY, 25), (BILLING, 18), (QUALITY, 17), (WARRANTY, 12), (ADVICE, 18), (RETURNS, 10)]
# Share of a category's tickets about one order (the others name a product or nothing).
ORDER_SHARE = {DELIVERY: 0.95, BILLING: 0.8, QUALITY: 0.7, WARRANTY: 0.4, ADVICE: 0.1, RETURNS: 0.9}
PRODUCT_SHARE = {DELIVERY: 0.3, BILLING: 0.0, QUALITY: 1.0, WARRANTY: 1.0, ADVICE: 0.7, RETURNS: 0.8}

SIGN = "\n\nЗ повагою,\n{client}"
AGENT_SIGN = "\n\n{agent}\nСлужба підтримки"


@dataclass(frozen=True)
class _Texts:
    requests: list[tuple[str, str]]  # (subject, the client's first mail)
    replies: list[str]  # the first answers
    follow_ups: list[str]  # the client's later mails
    resolutions: list[str]  # the resolving replies
    notes: list[str]


TEXTS: dict[str, _Texts] = {
    DELIVERY: _Texts(
        requests=[
            ("Не доставлено замовлення № {order}", "Добрий день! Замовлення № {order} мали привезти вчора, але машини "
             "так і не було. Підкажіть, будь ласка, коли чекати доставку." + SIGN),
            ("Затримка доставки замовлення № {order}", "Доброго дня. Менеджер обіцяв доставку замовлення № {order} до "
             "кінця тижня, але статус досі «відвантажено». У нас простоює бригада, прошу терміново перевірити." + SIGN),
            ("Пошкоджено упаковку під час доставки: {product}", "Сьогодні отримали замовлення № {order}. Частина "
             "упаковок ({product}) пошкоджена, є підмочені мішки. Акт із водієм склали, фото додаємо." + SIGN),
            ("Привезли не той товар за замовленням № {order}", "Добрий день. За замовленням № {order} замість позиції "
             "«{product}» привезли інше фасування. Просимо заміну або перерахунок." + SIGN),
            ("Недовкладення у замовленні № {order}", "Під час приймання замовлення № {order} виявили недостачу: "
             "«{product}» — на дві упаковки менше, ніж у видатковій накладній." + SIGN),
            ("Зміна адреси доставки для замовлення № {order}", "Прошу змінити адресу доставки замовлення № {order}: "
             "вантаж потрібно привезти на наш склад, а не в офіс. Розвантаження з 9:00 до 17:00." + SIGN),
            ("Коли буде відвантаження замовлення № {order}?", "Доброго дня! Підкажіть, будь ласка, орієнтовну дату "
             "відвантаження замовлення № {order}. Оплату здійснили позавчора." + SIGN),
        ],
        replies=[
            "Добрий день, {client_first}!\n\nДякуємо за звернення {number}. Перевіряємо замовлення № {order} з "
            "відділом логістики і повернемося з відповіддю сьогодні." + AGENT_SIGN,
            "Вітаю! Ми зв'язалися з перевізником: машина з вашим замовленням № {order} зараз у дорозі, орієнтовний "
            "час прибуття — завтра до 13:00. Чи буде на місці людина для приймання?" + AGENT_SIGN,
            "Доброго дня! Надішліть, будь ласка, фото пошкоджень і копію акта, складеного з водієм, — оформимо "
            "заміну без повернення пошкодженого товару." + AGENT_SIGN,
            "Добрий день! Адресу доставки в замовленні № {order} змінили. Водій зателефонує за годину до приїзду."
            + AGENT_SIGN,
        ],
        follow_ups=[
            "Так, приймальник буде на місці з 8:00.",
            "Фото і акт надіслали у відповідь на цей лист.",
            "Дякую, чекаємо. Попередьте, будь ласка, водія, що в'їзд з вулиці Промислової.",
            "Машини досі немає. Коли буде?",
            "Добре, домовилися.",
        ],
        resolutions=[
            "Замовлення № {order} доставлено і прийнято без зауважень. Закриваємо звернення {number}; якщо будуть "
            "питання — просто дайте відповідь на цей лист." + AGENT_SIGN,
            "Недостачу довезли сьогодні окремою машиною, видаткову накладну скориговано. Дякуємо за терпіння!"
            + AGENT_SIGN,
            "Заміну пошкодженого товару відвантажено, вартість доставки компенсуємо. Перепрошуємо за незручності."
            + AGENT_SIGN,
        ],
        notes=[
            "Логісти підтвердили: машина зламалася в дорозі, вантаж перевантажують.",
            "Перевізник — «Нова пошта», ТТН додав у замовлення.",
            "Склад підтвердив недовкладення, готують довіз.",
            "Водій не мав перепустки на територію — домовитися з охороною клієнта заздалегідь.",
        ],
    ),
    BILLING: _Texts(
        requests=[
            ("Прошу виставити рахунок за замовленням № {order}", "Доброго дня! Надішліть, будь ласка, рахунок на "
             "оплату за замовленням № {order} на цю адресу. Реквізити не змінилися." + SIGN),
            ("Помилка в рахунку за замовленням № {order}", "У рахунку за замовленням № {order} вказано старий код "
             "ЄДРПОУ і неправильну юридичну адресу. Бухгалтерія не може провести оплату, прошу виправити." + SIGN),
            ("Оплату за замовлення № {order} не зараховано", "Оплатили замовлення № {order} ще в понеділок (платіжна "
             "інструкція у вкладенні), але в особистому кабінеті воно досі «очікує оплати»." + SIGN),
            ("Потрібен акт звірки взаєморозрахунків", "Добрий день! Для закриття кварталу нам потрібен акт звірки "
             "взаєморозрахунків з початку року. Підписаний примірник повернемо через «Вчасно»." + SIGN),
            ("Не зареєстровано податкову накладну за замовленням № {order}", "Податкова накладна за постачанням за "
             "замовленням № {order} досі не зареєстрована в ЄРПН. Без неї не можемо сформувати податковий кредит."
             + SIGN),
            ("Повернення переплати за замовлення № {order}", "Під час оплати замовлення № {order} ми помилково "
             "перерахували зайву суму. Просимо повернути переплату або зарахувати її в наступне замовлення." + SIGN),
        ],
        replies=[
            "Добрий день! Рахунок за замовленням № {order} надіслали на вашу пошту. Термін оплати — 5 банківських "
            "днів." + AGENT_SIGN,
            "Вітаю! Передали питання в бухгалтерію, виправлений документ буде сьогодні до кінця дня." + AGENT_SIGN,
            "Доброго дня! Платіж знайшли: банк зарахував його сьогодні вранці. Статус замовлення оновиться протягом "
            "години." + AGENT_SIGN,
        ],
        follow_ups=[
            "Отримали, дякую. Підпишемо і повернемо.",
            "Надішліть, будь ласка, ще й скан із печаткою.",
            "Сума у виправленому рахунку правильна?",
            "У кабінеті статус досі не змінився.",
        ],
        resolutions=[
            "Виправлений рахунок і видаткову накладну надіслано. Звернення {number} закриваємо." + AGENT_SIGN,
            "Податкову накладну зареєстровано, квитанцію додаємо. Гарного дня!" + AGENT_SIGN,
            "Переплату зараховано в наступне замовлення, залишок видно в особистому кабінеті." + AGENT_SIGN,
        ],
        notes=[
            "Бухгалтерія: реквізити клієнта оновили в картці.",
            "Платіж прийшов з іншого рахунку клієнта, прив'язали вручну.",
            "Перевірити в понеділок, чи зареєстрована ПН.",
        ],
    ),
    QUALITY: _Texts(
        requests=[
            ("Брак у партії: {product}", "Доброго дня! У партії «{product}» за замовленням № {order} близько 10% "
             "одиниць з дефектами: тріщини і сколи. Фото додаємо. Просимо заміну." + SIGN),
            ("Товар не відповідає опису: {product}", "Отримали «{product}», але характеристики не збігаються з "
             "описом на сайті. Прошу пояснити або замінити товар." + SIGN),
            ("Короткий термін придатності: {product}", "У замовленні № {order} «{product}» з терміном придатності, "
             "що спливає за тиждень. За договором залишковий термін має бути не менше 70%." + SIGN),
            ("Потрібен сертифікат якості на {product}", "Для приймання на об'єкті потрібен сертифікат якості "
             "(декларація відповідності) на «{product}» із замовлення № {order}." + SIGN),
            ("Принтер друкує смуги після заміни картриджа", "Після встановлення нового картриджа з останньої поставки "
             "принтер друкує сірі смуги по всьому аркушу. Старий картридж друкував нормально." + SIGN),
        ],
        replies=[
            "Добрий день, {client_first}! Дякуємо за фото. Передали рекламацію виробнику; щоб пришвидшити, "
            "підкажіть номер партії з етикетки." + AGENT_SIGN,
            "Вітаю! Надсилаємо сертифікат якості і декларацію відповідності на цю партію у вкладенні." + AGENT_SIGN,
            "Доброго дня! Запустіть, будь ласка, очищення барабана в меню принтера і надрукуйте тестову сторінку. "
            "Якщо смуги залишаться — замінимо картридж." + AGENT_SIGN,
        ],
        follow_ups=[
            "Номер партії 24-117, фото етикетки додаю.",
            "Очищення не допомогло, смуги є.",
            "Дякую, сертифікат отримали.",
            "Коли буде рішення щодо заміни?",
        ],
        resolutions=[
            "Виробник визнав брак: заміну відвантажимо з найближчою доставкою, а дефектні одиниці заберемо."
            + AGENT_SIGN,
            "Замінили товар на партію з правильними характеристиками. Дякуємо за терпіння!" + AGENT_SIGN,
            "Картридж замінено на новий, тестова сторінка без смуг. Закриваємо звернення {number}." + AGENT_SIGN,
        ],
        notes=[
            "Рекламацію передано постачальнику, чекаємо висновку.",
            "Клієнт ключовий, погоджено заміну без повернення браку.",
            "Схоже на брак партії: уже третє звернення за тиждень.",
        ],
    ),
    WARRANTY: _Texts(
        requests=[
            ("Гарантійний ремонт: {product}", "Доброго дня! Товар «{product}» вийшов з ладу через три місяці роботи. "
             "Гарантія ще діє. Як оформити ремонт?" + SIGN),
            ("Несправність у гарантійний строк: {product}", "Товар «{product}» не працює: не вмикається після "
             "підключення. Купували у вас два місяці тому, гарантійний талон зберегли." + SIGN),
            ("Заміна товару за гарантією: {product}", "Просимо замінити «{product}» за гарантією: після двох тижнів "
             "використання з'явився дефект. Фото і відео додаю." + SIGN),
        ],
        replies=[
            "Добрий день! Гарантійний ремонт оформимо: надішліть, будь ласка, фото гарантійного талона і серійний "
            "номер. Кур'єр забере товар безкоштовно." + AGENT_SIGN,
            "Вітаю! Сервісний інженер зателефонує вам сьогодні, щоб домовитися про огляд на місці." + AGENT_SIGN,
        ],
        follow_ups=[
            "Фото талона і серійний номер надіслали.",
            "Інженер може приїхати в четвер після 14:00?",
            "Кур'єр ще не приїхав.",
            "Дякую, товар передали кур'єру.",
        ],
        resolutions=[
            "Сервісний центр замінив несправний вузол, товар уже в дорозі до вас. Гарантію продовжено на час "
            "ремонту." + AGENT_SIGN,
            "Ремонт неможливий, тому замінили товар на новий. Накладну надіслано." + AGENT_SIGN,
        ],
        notes=[
            "Сервісний центр: діагностика 3–5 робочих днів.",
            "Гарантія дійсна, талон перевірено.",
            "Замовили запчастину в постачальника.",
        ],
    ),
    ADVICE: _Texts(
        requests=[
            ("Підкажіть аналог: {product}", "Доброго дня! Позиції «{product}» немає в наявності. Що можете "
             "запропонувати натомість з такими самими характеристиками?" + SIGN),
            ("Умови зберігання: {product}", "Підкажіть, будь ласка, як правильно зберігати «{product}» на "
             "неопалюваному складі взимку?" + SIGN),
            ("Чи є в наявності {product}?", "Цікавить «{product}», приблизно 200 одиниць. Чи є на складі і які "
             "терміни поставки?" + SIGN),
            ("Доступ до особистого кабінету клієнта", "Не можу увійти в особистий кабінет: пише, що пароль "
             "неправильний, а лист для відновлення не приходить." + SIGN),
            ("Умови оптових знижок", "Доброго дня! Плануємо збільшити обсяги закупівель. Які у вас умови оптових "
             "знижок і програми лояльності?" + SIGN),
        ],
        replies=[
            "Добрий день! Як аналог пропонуємо позицію з тими самими характеристиками іншої торгової марки, ціна на "
            "5% нижча. Надіслати рахунок?" + AGENT_SIGN,
            "Вітаю! Зберігайте товар у сухому приміщенні на піддонах, без контакту з підлогою і стінами. "
            "Температурний режим указано на упаковці." + AGENT_SIGN,
            "Добрий день! Лист для відновлення пароля надіслали ще раз — перевірте, будь ласка, теку «Спам»."
            + AGENT_SIGN,
        ],
        follow_ups=[
            "Так, надішліть рахунок.",
            "Лист знайшовся в спамі, дякую!",
            "А чи можна отримати ці умови письмово?",
            "Дякую за консультацію.",
        ],
        resolutions=[
            "Рахунок надіслано, товар зарезервовано на 3 дні. Гарного дня!" + AGENT_SIGN,
            "Умови оптових знижок і проєкт договору надіслали на пошту. Менеджер зв'яжеться з вами для погодження."
            + AGENT_SIGN,
            "Доступ відновлено. Звернення {number} закриваємо." + AGENT_SIGN,
        ],
        notes=[
            "Передав запит менеджеру з продажу.",
            "Клієнт цікавиться оптовими цінами — можлива угода.",
            "Скинув пароль у порталі вручну.",
        ],
    ),
    RETURNS: _Texts(
        requests=[
            ("Повернення товару за замовленням № {order}", "Доброго дня! Хочемо повернути частину товару із "
             "замовлення № {order}: «{product}» не підійшов. Упаковка ціла." + SIGN),
            ("Повернення надлишку: {product}", "Після завершення об'єкта залишилося 12 упаковок «{product}». Чи можна "
             "їх повернути і як це оформити?" + SIGN),
            ("Повернення піддонів і тари", "Накопичилося 20 піддонів від ваших поставок. Коли можете забрати і як "
             "буде зарахована заставна вартість?" + SIGN),
            ("Обмін товару неналежної якості", "Просимо обміняти «{product}» із замовлення № {order}: під час "
             "розпакування виявили дефект. Акт додаємо." + SIGN),
        ],
        replies=[
            "Добрий день! Повернення товару належної якості можливе протягом 14 днів за умови збереження упаковки. "
            "Надсилаємо бланк заяви на повернення." + AGENT_SIGN,
            "Вітаю! Наш водій забере піддони під час наступної доставки, заставну вартість зарахуємо на ваш рахунок."
            + AGENT_SIGN,
        ],
        follow_ups=[
            "Заяву заповнили і надіслали.",
            "Коли буде наступна доставка?",
            "Добре, чекаємо водія.",
            "А повернення коштів на рахунок можливе?",
        ],
        resolutions=[
            "Повернення оформлено, кошти надійдуть на ваш рахунок протягом 5 банківських днів." + AGENT_SIGN,
            "Обмін здійснено, новий товар доставлено. Дякуємо!" + AGENT_SIGN,
        ],
        notes=[
            "Склад підтвердив: товар на складі, упаковка ціла.",
            "Повернення погоджено з комерційним директором.",
            "Заставна вартість піддонів — 150 грн за штуку.",
        ],
    ),
}  # fmt: skip
REOPEN_TEXTS = [
    "На жаль, проблема повторилася. Прошу відкрити звернення знову.",
    "Отримали заміну, але там та сама проблема.",
    "Документи так і не надійшли, перевірте, будь ласка, ще раз.",
]
PHONE_DESCRIPTION = "Клієнт зателефонував: {subject}. Домовилися, що відповідь надішлемо на пошту."

# The bench's long threads: coordination of deliveries to a construction site, week by week.
LONG_SUBJECTS = [
    "Поставки на будівельний об'єкт: графік і документи",
    "Рекламація на партію газоблоків D500",
    "Щотижневі відвантаження на склад у Броварах",
    "Комплектація об'єкта: погодження поставок",
    "Поставки за рамковим договором: узгодження партій",
]
LONG_INBOUND = [
    "Наступна поставка потрібна в понеділок до 8:00, тиждень {n}.",
    "Машина приїхала, вантаж прийняли. Накладну підписали.",
    "На тиждень {n} збільшуємо обсяг: ще 2 піддони.",
    "Водій спізнився на дві години, прошу врахувати на майбутнє.",
    "Надішліть, будь ласка, рахунок на поставку тижня {n}.",
    "Чи можна перенести поставку на середу?",
    "Отримали, все гаразд. Дякуємо.",
    "У накладній тижня {n} помилка в кількості, перевірте.",
]
LONG_REPLIES = [
    "Підтверджуємо поставку на тиждень {n}: машина буде о 7:30." + AGENT_SIGN,
    "Рахунок на поставку тижня {n} надіслали." + AGENT_SIGN,
    "Поставку перенесли на середу, водій зателефонує заздалегідь." + AGENT_SIGN,
    "Накладну тижня {n} виправили, новий примірник у вкладенні." + AGENT_SIGN,
    "Додаткові 2 піддони додали до замовлення." + AGENT_SIGN,
    "Перепрошуємо за затримку: перевізник змінив маршрут, більше не повториться." + AGENT_SIGN,
]
LONG_NOTES = [
    "Клієнт ключовий, поставки щотижня до кінця сезону.",
    "Склад попереджено про збільшення обсягу з тижня {n}.",
    "Логісти: для цього об'єкта лише машини до 10 т.",
]

UNKNOWN_SENDERS = ["olena.bondar.fop@gmail.com", "zakupivli.budservice@ukr.net", "info@agro-kolos.com.ua",
                   "director@sklad-plus.ua"]  # fmt: skip


# --- Curated tickets --------------------------------------------------------------------------------------------
# (final status, category, channel, priority, subject, messages as (kind, text), options). Options: order / product
# (link one of the company's orders / a product), who ("agent" service@, "manager" the service manager, None the
# team's queue), rating (stars, comment), age (days since a done ticket was created), due (resolution due so many
# minutes from now: negative is breached; such tickets run around the clock when a premium contract exists),
# company ("demo" the demo client, "bench" a company of the bench manager, "unknown" no company), team ("kyiv").

CURATED: list[tuple[str, str, str, str, str, list[tuple[str, str]], dict[str, Any]]] = [
    (NEW, DELIVERY, "email", "high", "Не доставлено замовлення № {order}", [
        (IN, "Добрий день! Замовлення № {order} мали привезти вчора до обіду, але машини не було, а водій не бере "
             "слухавку. На понеділок у нас заплановані роботи, без матеріалу зупинимося." + SIGN),
    ], {"order": True, "who": None, "company": "demo"}),
    (NEW, BILLING, "portal", "normal", "Прошу виставити рахунок на передоплату", [
        (IN, "Доброго дня! Потрібен рахунок на 100% передоплату за позиціями з кошика в особистому кабінеті. "
             "Оплатимо сьогодні." + SIGN),
    ], {"who": None}),
    (NEW, DELIVERY, "email", "urgent", "Пошкоджено вантаж під час розвантаження", [
        (IN, "Сьогодні під час розвантаження замовлення № {order} водій упустив піддон: «{product}» — пошкоджено "
             "близько третини. Акт склали, водій підписав." + SIGN),
        (IN, "Додаю ще фото пошкоджених упаковок і скан акта." + SIGN),
    ], {"order": True, "product": True, "who": None, "due": 40}),
    (OPEN, QUALITY, "phone", "high", "Брак у партії: {product}", [
        (NOTE, "Клієнт телефонував: у партії «{product}» тріщини майже на кожній десятій одиниці. Обіцяв надіслати "
               "фото. Попередив склад, щоб цю партію поки не відвантажували іншим."),
    ], {"order": True, "product": True, "who": "agent"}),
    (OPEN, BILLING, "email", "normal", "Оплату за замовлення № {order} не зараховано", [
        (IN, "Оплатили замовлення № {order} ще в понеділок, платіжна інструкція у вкладенні. У кабінеті статус "
             "«очікує оплати», відвантаження не призначили." + SIGN),
        (RE, "Добрий день, {client_first}! Платіж бачимо в банку, але без призначення платежу. Підкажіть, будь "
             "ласка, номер платіжної інструкції — прив'яжемо вручну." + AGENT_SIGN),
        (IN, "Номер платіжки — 1287 від понеділка. Дякую!"),
    ], {"order": True, "who": "agent", "company": "demo"}),
    (OPEN, QUALITY, "email", "urgent", "Машинна стрейч-плівка рветься на палетообмотувачі", [
        (IN, "Терміново! Нова партія машинної стрейч-плівки рветься на кожному третьому піддоні, лінія пакування "
             "стоїть. Потрібна заміна партії або інженер сьогодні." + SIGN),
        (NOTE, "Перевірив партію на складі — є інша, 2 рулони. Чекаю погодження логістів на термінову доставку."),
    ], {"product": True, "who": "agent", "due": 25}),
    (OPEN, WARRANTY, "phone", "high", "Гідравлічна рокла не піднімає вантаж після ремонту", [
        (NOTE, "Клієнт телефонував: рокла після гарантійного ремонту знову не піднімає піддон, тече масло. Просить "
               "заміну. Записав серійний номер з таблички."),
        (IN, "Надсилаю відео, як рокла опускається під вантажем." + SIGN),
    ], {"product": True, "who": "agent", "due": 50}),
    (OPEN, DELIVERY, "email", "high", "Затримка доставки замовлення № {order}", [
        (IN, "Доброго дня. Доставку замовлення № {order} переносили вже двічі. Прошу назвати точну дату, інакше "
             "будемо змушені скасувати замовлення." + SIGN),
        (RE, "Добрий день! Перевіряємо з логістами і сьогодні повідомимо точну дату." + AGENT_SIGN),
        (IN, "Так і не отримали відповіді. Коли буде машина?" + SIGN),
    ], {"order": True, "who": "agent", "due": -180}),
    (OPEN, BILLING, "email", "normal", "Помилка в рахунку: неправильний код ЄДРПОУ", [
        (IN, "У рахунку за замовленням № {order} вказано чужий код ЄДРПОУ. Бухгалтерія не може провести оплату, "
             "потрібен виправлений рахунок." + SIGN),
    ], {"order": True, "who": "agent", "due": -1440}),
    (REOPENED, QUALITY, "email", "high", "Плитковий клей не схоплюється", [
        (IN, "Клей для плитки з останньої поставки не схоплюється навіть через добу. Роботи на об'єкті стоять."
             + SIGN),
        (RES, "Добрий день! Схоже, клей змішували з холодною водою: за температури нижче +5 °C схоплювання "
              "сповільнюється. Рекомендації з нанесення додаємо. Звернення закриваємо, але якщо проблема "
              "залишиться — просто відповідайте на цей лист." + AGENT_SIGN),
        (IN, "Робили все за інструкцією, у приміщенні +18 °C. Клей так само не схоплюється, друга партія теж. "
             "Просимо заміну." + SIGN),
    ], {"order": True, "product": True, "who": "agent"}),
    (WAITING, QUALITY, "email", "normal", "Потрібен сертифікат якості на {product}", [
        (IN, "Для приймання на об'єкті технагляд вимагає сертифікат якості на «{product}» із замовлення № {order}."
             + SIGN),
        (RE, "Добрий день! Сертифікат на цю партію запросили у виробника. Підкажіть, будь ласка, номер партії з "
             "етикетки — так отримаємо його швидше." + AGENT_SIGN),
    ], {"order": True, "product": True, "who": "agent"}),
    (WAITING, DELIVERY, "email", "normal", "Зміна адреси доставки для замовлення № {order}", [
        (IN, "Прошу доставити замовлення № {order} не в офіс, а на склад: вул. Промислова, 12." + SIGN),
        (RE, "Вітаю! Адресу змінили. Чи потрібен маніпулятор для розвантаження?" + AGENT_SIGN),
        (IN, "Так, потрібен, піддони важкі." + SIGN),
        (RE, "Маніпулятор замовили. Підтвердьте, будь ласка, що приймання можливе в четвер з 9:00." + AGENT_SIGN),
    ], {"order": True, "who": "agent", "company": "demo"}),
    (WAITING, WARRANTY, "email", "normal", "Гарантійний ремонт: {product}", [
        (IN, "Товар «{product}» перестав працювати через чотири місяці. Гарантія ще діє." + SIGN),
        (NOTE, "Гарантія дійсна до кінця року, перевірив за накладною."),
        (RE, "Добрий день! Надішліть, будь ласка, фото гарантійного талона і серійний номер — кур'єр забере товар "
             "безкоштовно." + AGENT_SIGN),
    ], {"product": True, "who": "agent"}),
    (OPEN, ADVICE, "portal", "low", "Не можу увійти в особистий кабінет", [
        (IN, "Після зміни пароля не можу увійти в кабінет клієнта, лист для відновлення не приходить." + SIGN),
    ], {"who": "agent"}),
    (OPEN, DELIVERY, "email", "normal", "Недовкладення у замовленні № {order}", [
        (IN, "Під час приймання замовлення № {order} виявили недостачу: «{product}» — на три упаковки менше, ніж у "
             "накладній." + SIGN),
        (NOTE, "Склад перевіряє відвантаження, відповідь обіцяють завтра."),
    ], {"order": True, "product": True, "who": "agent", "due": -300}),
    (NEW, RETURNS, "web_form", "normal", "Прошу зателефонувати щодо повернення", [
        (IN, "Хочемо повернути частину товару з останнього замовлення. Зателефонуйте, будь ласка, для узгодження."
             + SIGN),
    ], {"who": None}),
    (NEW, ADVICE, "email", "normal", "Питання щодо співпраці", [
        (IN, "Доброго дня! Ми будівельна компанія з Житомира, цікавить постачання сухих сумішей на кілька "
             "об'єктів. Надішліть, будь ласка, прайс і умови доставки.\n\nОлена Бондар"),
    ], {"who": None, "company": "unknown"}),
    (RESOLVED, DELIVERY, "email", "normal", "Коли буде відвантаження замовлення № {order}?", [
        (IN, "Підкажіть, будь ласка, дату відвантаження замовлення № {order}. Оплатили позавчора." + SIGN),
        (RES, "Добрий день! Замовлення № {order} відвантажили сьогодні, ТТН надіслали на пошту. Доставка завтра до "
              "13:00." + AGENT_SIGN),
    ], {"order": True, "who": "agent", "rating": (5, "Швидко, дякую!"), "age": 2, "company": "demo"}),
    (RESOLVED, BILLING, "email", "normal", "Потрібен акт звірки за квартал", [
        (IN, "Надішліть, будь ласка, акт звірки взаєморозрахунків за минулий квартал." + SIGN),
        (RE, "Вітаю! Акт звірки надіслали через «Вчасно». Підпишіть, будь ласка, з вашого боку." + AGENT_SIGN),
        (IN, "У нас розбіжність на одну накладну, перевірте." + SIGN),
        (RES, "Перевірили: накладну провели наступним кварталом. Виправлений акт у «Вчасно»." + AGENT_SIGN),
    ], {"who": "agent", "rating": (4, ""), "age": 4}),
    (RESOLVED, DELIVERY, "email", "high", "Привезли не той товар", [
        (IN, "За замовленням № {order} привезли не те фасування: замість «{product}» — дрібне." + SIGN),
        (RE, "Перепрошуємо! Заміну відвантажимо завтра, неправильний товар водій забере." + AGENT_SIGN),
        (IN, "Машина приїхала без заміни, лише забрала товар." + SIGN),
        (NOTE, "Склад не доклав заміну в машину. Довіз окремим рейсом за наш рахунок."),
        (RES, "Заміну доставили окремим рейсом. Ще раз перепрошуємо за незручності." + AGENT_SIGN),
    ], {"order": True, "product": True, "who": "agent", "rating": (2, "Довелося двічі чекати машину."), "age": 3}),
    (RESOLVED, ADVICE, "phone", "low", "Як зберігати цемент узимку", [
        (RES, "Добрий день! Як домовилися телефоном: цемент зберігайте в сухому приміщенні на піддонах, не довше 60 "
              "днів від дати виробництва; відкриті мішки використайте протягом тижня." + AGENT_SIGN),
    ], {"product": True, "who": "agent", "age": 6}),
    (RESOLVED, QUALITY, "email", "normal", "Принтер друкує смуги після заміни картриджа", [
        (IN, "Після встановлення нового сумісного картриджа принтер друкує сірі смуги по всьому аркушу." + SIGN),
        (RE, "Доброго дня! Запустіть, будь ласка, очищення барабана в меню принтера і надрукуйте тестову сторінку."
             + AGENT_SIGN),
        (IN, "Очищення не допомогло, смуги залишилися." + SIGN),
        (RES, "Замінили картридж на новий з іншої партії — тестова сторінка без смуг. Дякуємо за терпіння!"
              + AGENT_SIGN),
    ], {"product": "Картридж", "who": "agent", "rating": (5, ""), "age": 8, "article": "printer-stripes"}),
    (CLOSED, BILLING, "email", "normal", "Повернення переплати за замовлення № {order}", [
        (IN, "Під час оплати замовлення № {order} перерахували на 1 200 грн більше. Прошу повернути." + SIGN),
        (NOTE, "Бухгалтерія підтвердила переплату."),
        (RES, "Переплату повернули на ваш рахунок, кошти надійдуть протягом 3 банківських днів." + AGENT_SIGN),
    ], {"order": True, "who": "agent", "rating": (5, "Дякую за оперативність."), "age": 12}),
    (CLOSED, DELIVERY, "email", "normal", "Затримка доставки замовлення № {order}", [
        (IN, "Доставку замовлення № {order} обіцяли на вчора. Машини не було." + SIGN),
        (RE, "Перепрошуємо: машина зламалася в дорозі. Вантаж перевантажили, доставка сьогодні до 16:00."
             + AGENT_SIGN),
        (IN, "Добре, чекаємо." + SIGN),
        (RES, "Замовлення доставлено. Дякуємо за терпіння!" + AGENT_SIGN),
    ], {"order": True, "who": "agent", "rating": (3, "Вирішили, але довго."), "age": 15, "company": "demo"}),
    (CLOSED, BILLING, "email", "normal", "Не зареєстровано податкову накладну", [
        (IN, "Податкова накладна за постачанням за замовленням № {order} досі не зареєстрована." + SIGN),
        (RE, "Передали в бухгалтерію, реєстрація сьогодні." + AGENT_SIGN),
        (RES, "Податкову накладну зареєстровано, квитанцію додаємо." + AGENT_SIGN),
    ], {"order": True, "who": "agent", "age": 20}),
    (CLOSED, DELIVERY, "email", "high", "Повторна доставка без попередження", [
        (IN, "Машина приїхала о 6 ранку без дзвінка, склад ще був зачинений." + SIGN),
        (RE, "Перепрошуємо. Уточніть, будь ласка, зручний час доставки." + AGENT_SIGN),
        (IN, "З 9:00 до 17:00, як і вказано в замовленні." + SIGN),
        (RE, "Передали логістам, наступну доставку призначили на 10:00." + AGENT_SIGN),
        (IN, "Знову приїхали о 7:00!" + SIGN),
        (RES, "Ми змінили перевізника для вашого напрямку, доставки тепер лише з 9:00." + AGENT_SIGN),
    ], {"order": True, "who": "agent", "rating": (1, "Двічі те саме, жодного дзвінка."), "age": 25}),
    (CLOSED, ADVICE, "email", "low", "Підкажіть аналог: {product}", [
        (IN, "Позиції «{product}» немає в наявності. Що можете запропонувати натомість?" + SIGN),
        (RES, "Добрий день! Пропонуємо аналог іншої торгової марки з тими самими характеристиками, рахунок у "
              "вкладенні." + AGENT_SIGN),
    ], {"product": True, "who": "agent", "age": 18}),
    (CLOSED, RETURNS, "email", "normal", "Обмін товару неналежної якості", [
        (IN, "Просимо обміняти «{product}» із замовлення № {order}: під час розпакування виявили дефект." + SIGN),
        (NOTE, "Погоджено обмін без повернення дефектного товару."),
        (RE, "Обмін погоджено. Коли зручно прийняти доставку?" + AGENT_SIGN),
        (IN, "Завтра після 10:00." + SIGN),
        (RES, "Новий товар доставили, обмін оформлено." + AGENT_SIGN),
    ], {"order": True, "product": True, "who": "agent", "age": 30}),
    (CLOSED, WARRANTY, "email", "normal", "Світлодіодна панель мерехтить", [
        (IN, "Світлодіодні панелі, куплені два місяці тому, почали мерехтіти." + SIGN),
        (RE, "Найчастіше мерехтіння дає драйвер. Надішліть, будь ласка, відео і номер партії." + AGENT_SIGN),
        (IN, "Відео і фото етикетки надіслали." + SIGN),
        (RES, "Гарантійну заміну драйверів відвантажили, інструкцію із заміни додаємо." + AGENT_SIGN),
    ], {"product": "Світильник", "who": "manager", "rating": (5, ""), "age": 35, "article": "led-flicker"}),
    (CLOSED, BILLING, "email", "high", "Подвійне списання коштів", [
        (IN, "З нашого рахунку двічі списали оплату за замовлення № {order}." + SIGN),
        (RE, "Перевіряємо з банком, повернемося сьогодні." + AGENT_SIGN),
        (IN, "Є новини?" + SIGN),
        (NOTE, "Банк підтвердив дубль платежу, повернення ініційовано."),
        (RES, "Другий платіж повернули, кошти надійдуть за 1–2 банківські дні." + AGENT_SIGN),
    ], {"order": True, "who": "agent", "age": 40}),
    (CLOSED, BILLING, "email", "low", "Рахунок англійською для головного офісу", [
        (IN, "Для головного офісу потрібен рахунок англійською мовою за замовленням № {order}." + SIGN),
        (RES, "Рахунок англійською надіслали у вкладенні." + AGENT_SIGN),
    ], {"order": True, "who": "agent", "age": 42}),
    (CLOSED, RETURNS, "phone", "normal", "Повернення піддонів", [
        (RE, "Добрий день! Як домовилися телефоном, водій забере 20 піддонів під час наступної доставки."
             + AGENT_SIGN),
        (IN, "Дякуємо, піддони підготували." + SIGN),
        (RES, "Піддони забрали, заставну вартість зарахували на ваш рахунок." + AGENT_SIGN),
    ], {"who": "agent", "rating": (4, ""), "age": 45}),
    (RESOLVED, WARRANTY, "email", "normal", "Спрацьовує автоматичний вимикач під навантаженням", [
        (IN, "Новий автоматичний вимикач 1P 16 А вибиває, щойно вмикаємо обігрівач." + SIGN),
        (RE, "Перевірте, будь ласка, сумарну потужність на лінії: для 16 А — до 3,5 кВт." + AGENT_SIGN),
        (IN, "Обігрівач 2 кВт і чайник 2,2 кВт на одній лінії." + SIGN),
        (RES, "Сумарно 4,2 кВт — більше за номінал вимикача. Радимо розвести навантаження по двох лініях; вимикач "
              "справний." + AGENT_SIGN),
    ], {"product": "Автоматичний вимикач", "who": "agent", "age": 5, "article": "breaker-trips"}),
    (CLOSED, ADVICE, "email", "normal", "Не приходять листи з рахунками", [
        (IN, "Перестали приходити листи з рахунками на бухгалтерську пошту." + SIGN),
        (RE, "Перевірте, будь ласка, теку «Спам» і додайте нашу адресу до контактів." + AGENT_SIGN),
        (IN, "Знайшли в спамі, дякую." + SIGN),
        (RES, "Чудово! Закриваємо звернення {number}." + AGENT_SIGN),
    ], {"who": "agent", "age": 50}),
    (CLOSED, DELIVERY, "email", "normal", "Отримали товар з пошкодженою упаковкою", [
        (IN, "Частина упаковок у замовленні № {order} пошкоджена, товар цілий." + SIGN),
        (RE, "Дякуємо, що повідомили. Передали складу, щоб краще пакували ваші замовлення." + AGENT_SIGN),
        (RES, "Склад змінив пакування для ваших відвантажень: піддони тепер у два шари плівки." + AGENT_SIGN),
    ], {"order": True, "who": "agent", "age": 55}),
    (CLOSED, ADVICE, "email", "low", "Дубль звернення", [
        (IN, "Повторно надсилаю запит щодо прайсу на сухі суміші." + SIGN),
    ], {"who": "agent", "age": 10}),
    (RESOLVED, QUALITY, "email", "normal", "Тонер розсипається в картриджі", [
        (IN, "У нових картриджах тонер висипається під час друку, принтер брудний." + SIGN),
        (RES, "Замінили партію картриджів, нові вже у вас." + AGENT_SIGN),
        (IN, "Нові картриджі мають ту саму проблему." + SIGN),
        (RES, "Постачальник підтвердив брак партії. Надіслали картриджі іншого виробника і компенсували "
              "чистку принтера." + AGENT_SIGN),
    ], {"product": "Тонер", "who": "agent", "rating": (4, ""), "age": 9}),
    (CLOSED, ADVICE, "phone", "normal", "Умови оптових знижок", [
        (RE, "Добрий день! Як обговорили телефоном, надсилаємо умови оптових знижок і програми лояльності."
             + AGENT_SIGN),
        (IN, "Дякую! Чи діє знижка на доставку?" + SIGN),
        (RES, "Так: доставка по області безкоштовна від 20 000 грн." + AGENT_SIGN),
    ], {"who": "manager", "rating": (5, ""), "age": 28}),
]  # fmt: skip
# The two curated long threads (bench card): the bench manager's companies, one in the sales team's queue.
CURATED_LONG: list[tuple[str, dict[str, Any]]] = [
    (OPEN, {"company": "bench", "who": "agent"}),
    (RESOLVED, {"company": "bench", "team": "kyiv", "who": "kyiv"}),
]


# --- Knowledge base -------------------------------------------------------------------------------------------
# (key, category, public, product name prefix, title uk, title en, problem uk, problem en, symptoms uk, symptoms en,
# solution uk, solution en)

ARTICLES: list[tuple[str, ...]] = [
    ("printer-stripes", QUALITY, "1", "Картридж",
     "Принтер друкує смуги після заміни картриджа", "The printer prints streaks after a cartridge change",
     "Після встановлення нового сумісного картриджа принтер друкує смуги або сірий фон.",
     "After a new compatible cartridge is installed the printer prints streaks or a grey background.",
     "Вертикальні сірі смуги по всьому аркушу; сірий фон; повторювані плями через рівні проміжки.",
     "Vertical grey streaks across the page; a grey background; spots repeating at equal intervals.",
     "1. Вийміть картридж і зніміть транспортувальні фіксатори та стрічку.\n2. Запустіть очищення барабана в "
     "меню принтера.\n3. Надрукуйте тестову сторінку.\n4. Якщо смуги залишилися, оформіть заміну картриджа: "
     "номер партії — на етикетці.",
     "1. Take the cartridge out and remove the transport locks and tape.\n2. Run the drum cleaning from the "
     "printer's menu.\n3. Print a test page.\n4. If the streaks remain, arrange a replacement: the batch number "
     "is on the label."),
    ("printer-cartridge-not-recognised", QUALITY, "1", "Картридж",
     "Принтер не розпізнає сумісний картридж", "The printer does not recognise a compatible cartridge",
     "Принтер показує помилку «картридж не встановлено» або «невідомий картридж».",
     "The printer shows \"no cartridge\" or \"unknown cartridge\".",
     "Індикатор тонера блимає; друк не починається; після оновлення прошивки старі картриджі не працюють.",
     "The toner light blinks; printing does not start; after a firmware update older cartridges stop working.",
     "1. Перевірте, чи є ваш принтер у списку сумісних моделей на упаковці картриджа.\n2. Протріть контакти чипа "
     "сухою серветкою.\n3. Вимкніть автоматичне оновлення прошивки.\n4. Якщо не допомогло — заміна картриджа за "
     "гарантією.",
     "1. Check that the printer model is on the list on the cartridge box.\n2. Wipe the chip contacts with a "
     "dry cloth.\n3. Turn off automatic firmware updates.\n4. If that does not help, replace the cartridge "
     "under warranty."),
    ("printer-paper-jam", ADVICE, "1", "Папір офісний",
     "Папір зминається в принтері", "Paper jams in the printer",
     "Офісний папір застрягає або зминається під час друку.", "Office paper jams or creases while printing.",
     "Зім'яті аркуші на виході; друк зупиняється з помилкою подачі; аркуші злипаються.",
     "Creased sheets come out; printing stops with a feed error; sheets stick together.",
     "1. Зберігайте папір у закритій пачці при вологості 40–60%.\n2. Перед закладанням розгорніть пачку "
     "віялом.\n3. Не перевантажуйте лоток.\n4. Перевірте, що принтер налаштовано на щільність 80 г/м².",
     "1. Keep paper in a closed ream at 40–60% humidity.\n2. Fan the ream before loading.\n3. Do not overfill "
     "the tray.\n4. Check that the printer is set to 80 gsm paper."),
    ("toner-leak", QUALITY, "0", "Тонер",
     "Тонер висипається з картриджа", "Toner leaks from the cartridge",
     "З картриджа висипається тонер, принтер і аркуші брудні.", "Toner leaks from the cartridge and soils "
     "the printer and the pages.",
     "Чорний пил у принтері; плями на аркушах; картриджі однієї партії.",
     "Black dust inside the printer; smudges on the pages; cartridges of one batch.",
     "Внутрішнє: перевірте, чи були інші звернення щодо цієї партії. Якщо так — оформіть рекламацію "
     "постачальнику, клієнту відвантажте картриджі іншої партії і запропонуйте компенсувати чистку принтера.",
     "Internal: check for other tickets about the batch. If there are, file a claim with the supplier, ship the "
     "client cartridges of another batch and offer to pay for cleaning the printer."),
    ("delivery-tracking", DELIVERY, "1", "",
     "Як дізнатися, де моє замовлення", "Where is my order",
     "Клієнт не знає, коли буде доставлено замовлення.", "The client does not know when the order will arrive.",
     "Статус замовлення «відвантажено», але доставки ще немає.", "The order is \"shipped\" but has not arrived.",
     "1. Відкрийте замовлення в особистому кабінеті: номер ТТН перевізника вказано в картці.\n2. Відстежте "
     "вантаж на сайті перевізника.\n3. Якщо доставка запізнюється більше ніж на добу — напишіть нам, указавши "
     "номер замовлення.",
     "1. Open the order in the client portal: the carrier's waybill number is on it.\n2. Track the parcel on "
     "the carrier's site.\n3. If delivery is over a day late, write to us with the order number."),
    ("delivery-damaged", DELIVERY, "1", "",
     "Вантаж пошкоджено під час доставки", "Goods damaged in delivery",
     "Під час приймання виявлено пошкоджену упаковку або товар.", "Damaged packaging or goods found on "
     "receipt.",
     "Розірвані або підмочені мішки; деформовані коробки; бій.", "Torn or wet bags; crushed boxes; breakage.",
     "1. Не відпускайте водія: складіть акт про пошкодження в двох примірниках, водій його підписує.\n"
     "2. Сфотографуйте вантаж і маркування.\n3. Надішліть акт і фото у відповідь на лист про відвантаження.\n"
     "4. Заміну відвантажимо без повернення пошкодженого товару, якщо пошкодження зафіксовано в акті.",
     "1. Keep the driver: write a damage report in two copies and have the driver sign it.\n2. Photograph the "
     "goods and the labels.\n3. Send the report and photos in reply to the shipping e-mail.\n4. We ship a "
     "replacement without taking back the damaged goods when the report records the damage."),
    ("delivery-shortage", DELIVERY, "1", "",
     "Недостача у поставці", "Short delivery",
     "Кількість отриманого товару менша, ніж у видатковій накладній.", "Fewer goods arrived than the delivery "
     "note says.",
     "Не вистачає упаковок або одиниць; накладна підписана без зауважень.",
     "Packs or units are missing; the delivery note was signed without remarks.",
     "1. Зробіть відмітку про недостачу в накладній до підпису.\n2. Якщо недостачу виявили пізніше — повідомте "
     "протягом 3 робочих днів.\n3. Ми перевіримо відвантаження на складі і довеземо товар або скоригуємо "
     "накладну.",
     "1. Note the shortage on the delivery note before signing.\n2. If you find it later, tell us within 3 "
     "working days.\n3. We check the shipment at the warehouse and deliver the rest or correct the note."),
    ("delivery-address", DELIVERY, "1", "",
     "Зміна адреси або часу доставки", "Changing the delivery address or time",
     "Потрібно змінити адресу чи час доставки вже оформленого замовлення.",
     "The address or time of an order already placed must change.",
     "", "",
     "Напишіть нам до відвантаження, указавши номер замовлення, нову адресу і контактну особу. Після "
     "відвантаження зміна можлива за погодженням з перевізником і може коштувати додатково.",
     "Write to us before shipping with the order number, the new address and a contact person. After shipping "
     "a change depends on the carrier and may cost extra."),
    ("delivery-site-manipulator", DELIVERY, "0", "",
     "Доставка на об'єкт маніпулятором", "Delivery to a construction site by crane truck",
     "Внутрішнє: клієнт просить доставку важкого вантажу на об'єкт без техніки для розвантаження.",
     "Internal: the client asks for heavy goods delivered to a site with no unloading equipment.",
     "", "",
     "Замовте маніпулятор через логістів (заявка до 14:00 напередодні). Розвантаження оплачується окремо за "
     "тарифом; попередьте клієнта про в'їзд і місце для стоянки.",
     "Book a crane truck through logistics (by 14:00 the day before). Unloading is charged separately; tell "
     "the client about access and a parking place."),
    ("invoice-request", BILLING, "1", "",
     "Як отримати рахунок на оплату", "How to get an invoice",
     "Клієнту потрібен рахунок на оплату замовлення.", "The client needs an invoice for an order.",
     "", "",
     "Рахунок формується автоматично після підтвердження замовлення і надходить на пошту покупця. Його також "
     "можна завантажити в особистому кабінеті, у картці замовлення.",
     "The invoice is made when the order is confirmed and sent to the buyer's e-mail. It can also be downloaded "
     "from the order in the client portal."),
    ("invoice-wrong-details", BILLING, "1", "",
     "Помилка в реквізитах рахунку", "Wrong details on an invoice",
     "У рахунку вказано неправильні реквізити покупця.", "The invoice shows wrong buyer details.",
     "Неправильний код ЄДРПОУ, адреса або назва; бухгалтерія не проводить оплату.",
     "Wrong EDRPOU code, address or name; the accounts department cannot pay.",
     "Надішліть правильні реквізити (витяг з ЄДР або картку підприємства). Ми оновимо картку клієнта і "
     "надішлемо виправлений рахунок того самого дня.",
     "Send the correct details (a register extract or company card). We update the client's record and send a "
     "corrected invoice the same day."),
    ("payment-not-visible", BILLING, "1", "",
     "Оплата не відображається в замовленні", "A payment does not show on the order",
     "Клієнт оплатив замовлення, але статус досі «очікує оплати».", "The client paid but the order still waits "
     "for payment.",
     "Статус не змінюється після оплати; відвантаження не призначено.",
     "The status does not change after paying; no shipment is scheduled.",
     "1. Банківський платіж зараховується до 1 банківського дня.\n2. Якщо минуло більше — надішліть платіжну "
     "інструкцію з номером рахунку в призначенні платежу.\n3. Платіж без номера рахунку прив'язуємо вручну.",
     "1. A bank transfer takes up to one banking day.\n2. If it has been longer, send the payment order with the "
     "invoice number in its reference.\n3. Payments without an invoice number are matched by hand."),
    ("tax-invoice", BILLING, "1", "",
     "Реєстрація податкової накладної", "Registering the VAT invoice",
     "Податкова накладна не зареєстрована в ЄРПН.", "The VAT invoice is not registered.",
     "", "",
     "Податкові накладні реєструємо протягом 5 робочих днів після події. Якщо реєстрацію зупинено, "
     "бухгалтерія подає пояснення і повідомляє клієнта. Квитанцію про реєстрацію надсилаємо на запит.",
     "VAT invoices are registered within 5 working days of the supply. If registration is suspended, the "
     "accounts department files an explanation and tells the client. The receipt is sent on request."),
    ("reconciliation", BILLING, "1", "",
     "Акт звірки взаєморозрахунків", "Statement of account",
     "Клієнту потрібен акт звірки за період.", "The client needs a statement of account for a period.",
     "", "",
     "Акт звірки надсилаємо через «Вчасно» або на пошту протягом 2 робочих днів після запиту. Розбіжності "
     "перевіряє бухгалтерія за накладними і платежами періоду.",
     "We send the statement through Vchasno or by e-mail within 2 working days. The accounts department checks "
     "differences against the period's delivery notes and payments."),
    ("refund-overpayment", BILLING, "0", "",
     "Повернення переплати", "Refunding an overpayment",
     "Внутрішнє: клієнт переплатив і просить повернути кошти.", "Internal: the client overpaid and asks for "
     "the money back.",
     "", "",
     "Попросіть лист-заяву на повернення з реквізитами. Бухгалтерія повертає кошти протягом 3 банківських днів; "
     "за згодою клієнта переплату можна зарахувати в наступне замовлення.",
     "Ask for a signed refund request with bank details. The accounts department refunds within 3 banking "
     "days; with the client's consent the amount can go towards the next order."),
    ("batch-defect", QUALITY, "0", "",
     "Рекламація на партію товару", "A claim against a batch",
     "Внутрішнє: клієнт повідомляє про брак у партії.", "Internal: the client reports defects in a batch.",
     "Однакові дефекти в багатьох одиницях однієї партії.", "The same defect in many units of one batch.",
     "1. Попросіть фото, номер партії і кількість дефектних одиниць.\n2. Перевірте, чи були звернення щодо "
     "цієї партії.\n3. Оформіть рекламацію постачальнику.\n4. Ключовим клієнтам погоджуйте заміну без "
     "повернення браку.",
     "1. Ask for photos, the batch number and the number of defective units.\n2. Check for other tickets about "
     "the batch.\n3. File a claim with the supplier.\n4. For key clients agree a replacement without taking the "
     "defects back."),
    ("quality-certificate", QUALITY, "1", "",
     "Сертифікат якості і декларація відповідності", "Quality certificate and declaration of conformity",
     "Для приймання товару потрібен сертифікат якості.", "A quality certificate is needed to accept the goods.",
     "", "",
     "Сертифікати якості і декларації відповідності надсилаємо на запит протягом 1 робочого дня. Укажіть "
     "номер замовлення і, якщо можете, номер партії з етикетки.",
     "Quality certificates and declarations of conformity are sent on request within one working day. Give the "
     "order number and, if you can, the batch number from the label."),
    ("shelf-life", QUALITY, "1", "",
     "Залишковий термін придатності", "Remaining shelf life",
     "Товар поставлено з коротким залишковим терміном придатності.", "Goods arrived with a short remaining "
     "shelf life.",
     "", "",
     "За договором поставки залишковий термін придатності — не менше 70%. Якщо його менше, ми замінимо товар "
     "або надамо знижку за вашим вибором.",
     "Under the supply contract at least 70% of the shelf life must remain. If less remains we replace the "
     "goods or give a discount, as you choose."),
    ("tile-adhesive", QUALITY, "1", "Клей для плитки",
     "Плитковий клей не схоплюється", "Tile adhesive does not set",
     "Клей для плитки довго не схоплюється або кришиться.", "Tile adhesive takes too long to set or crumbles.",
     "Плитка зсувається через добу; клей кришиться; поверхня клею пилить.",
     "Tiles slide after a day; the adhesive crumbles; its surface is dusty.",
     "1. Змішуйте з чистою водою кімнатної температури, у пропорції з упаковки.\n2. Працюйте за температури "
     "від +5 до +30 °C.\n3. Ґрунтуйте основу.\n4. Якщо умови дотримано — надішліть номер партії: перевіримо "
     "партію і замінимо.",
     "1. Mix with clean water at room temperature in the proportion on the bag.\n2. Work between +5 and +30 "
     "°C.\n3. Prime the base.\n4. If the conditions were right, send the batch number: we check the batch and "
     "replace it."),
    ("cement-storage", ADVICE, "1", "Цемент",
     "Зберігання цементу", "Storing cement",
     "Як зберігати цемент, щоб він не втратив властивостей.", "How to store cement so it keeps its "
     "properties.",
     "Цемент злежався або має грудки.", "The cement has caked or has lumps.",
     "Зберігайте мішки в сухому приміщенні на піддонах, не більше 10 рядів. Використайте цемент протягом 60 днів "
     "від дати виробництва; відкритий мішок — протягом тижня.",
     "Keep the bags indoors and dry on pallets, at most 10 layers high. Use cement within 60 days of "
     "manufacture; an opened bag within a week."),
    ("warranty-claim", WARRANTY, "1", "",
     "Як оформити гарантійне звернення", "How to make a warranty claim",
     "Товар вийшов з ладу в гарантійний строк.", "Goods failed within the warranty period.",
     "", "",
     "1. Надішліть фото гарантійного талона або номер накладної і серійний номер.\n2. Опишіть несправність, "
     "за можливості — відео.\n3. Кур'єр забере товар безкоштовно; діагностика — до 5 робочих днів.\n4. Якщо "
     "ремонт неможливий, замінимо товар.",
     "1. Send a photo of the warranty card or the delivery note number and the serial number.\n2. Describe the "
     "fault, with a video if you can.\n3. A courier collects the goods for free; diagnosis takes up to 5 working "
     "days.\n4. If it cannot be repaired, we replace it."),
    ("pallet-truck", WARRANTY, "1", "Рокла",
     "Гідравлічна рокла не піднімає вантаж", "A hand pallet truck does not lift",
     "Рокла не піднімає вилки або опускається під вантажем.", "The pallet truck does not lift or sinks under "
     "load.",
     "Вилки не піднімаються; рокла повільно опускається; тече масло.",
     "The forks do not lift; the truck sinks slowly; oil leaks.",
     "1. Прокачайте гідравліку: важіль у положення «опускання», 10–15 качань ручкою.\n2. Перевірте рівень "
     "масла.\n3. Якщо тече масло — не використовуйте рокла і оформіть гарантійний ремонт.",
     "1. Bleed the hydraulics: lever to \"lower\", pump the handle 10–15 times.\n2. Check the oil level.\n3. If "
     "oil leaks, stop using the truck and make a warranty claim."),
    ("led-flicker", WARRANTY, "1", "Світильник",
     "Світлодіодна панель мерехтить", "An LED panel flickers",
     "Світлодіодний світильник мерехтить або вимикається.", "An LED light flickers or switches off.",
     "Мерехтіння на камеру телефону; світильник гасне через кілька хвилин.",
     "Flicker visible on a phone camera; the light goes off after a few minutes.",
     "1. Перевірте, чи не підключено світильник через вимикач з підсвіткою або диммер.\n2. Якщо ні — найчастіше "
     "несправний драйвер: надішліть відео і номер партії, відвантажимо драйвер за гарантією.",
     "1. Check the light is not on an illuminated switch or a dimmer.\n2. If not, the driver is usually at "
     "fault: send a video and the batch number and we ship a driver under warranty."),
    ("breaker-trips", WARRANTY, "1", "Автоматичний вимикач",
     "Автоматичний вимикач вибиває під навантаженням", "A circuit breaker trips under load",
     "Новий автоматичний вимикач спрацьовує, коли вмикають потужні прилади.",
     "A new circuit breaker trips when powerful appliances are switched on.",
     "", "",
     "Порахуйте сумарну потужність на лінії: для 16 А — до 3,5 кВт, для 25 А — до 5,5 кВт. Якщо навантаження "
     "більше — розведіть його по лініях. Вимикач, що спрацьовує без перевантаження, замінимо за гарантією.",
     "Add up the load on the line: up to 3.5 kW for 16 A, up to 5.5 kW for 25 A. If it is more, split it "
     "between lines. A breaker that trips without an overload is replaced under warranty."),
    ("stretch-film", QUALITY, "1", "Стрейч-плівка",
     "Стрейч-плівка рветься під час обмотування", "Stretch film tears while wrapping",
     "Плівка рветься на палетообмотувачі або при ручному обмотуванні.", "The film tears on the wrapping "
     "machine or by hand.",
     "", "",
     "1. Зменшіть попереднє розтягування на машині до 150–200%.\n2. Перевірте, чи немає гострих кутів на "
     "вантажі.\n3. Зберігайте рулони за температури від +5 °C.\n4. Якщо рветься вся партія — заміна.",
     "1. Reduce the machine's pre-stretch to 150–200%.\n2. Check the load for sharp corners.\n3. Store the "
     "rolls above +5 °C.\n4. If the whole batch tears, we replace it."),
    ("portal-login", ADVICE, "1", "",
     "Не вдається увійти в особистий кабінет", "Cannot sign in to the client portal",
     "Клієнт не може увійти в особистий кабінет.", "The client cannot sign in to the portal.",
     "Повідомлення «неправильний пароль»; лист для відновлення не приходить.",
     "\"Wrong password\"; the reset e-mail does not arrive.",
     "1. Скористайтеся посиланням «Забули пароль?» на сторінці входу.\n2. Перевірте теку «Спам».\n3. Якщо лист "
     "не прийшов за 10 хвилин — напишіть нам з адреси, на яку зареєстровано кабінет.",
     "1. Use \"Forgot your password?\" on the sign-in page.\n2. Check the spam folder.\n3. If nothing arrives "
     "within 10 minutes, write to us from the address the account is registered to."),
    ("wholesale-discounts", ADVICE, "1", "",
     "Оптові знижки і програма лояльності", "Wholesale discounts and loyalty",
     "Клієнт цікавиться умовами знижок.", "The client asks about discounts.",
     "", "",
     "Постійним клієнтам (12 замовлень за рік) — знижка 3%, від 1 млн грн за рік — 5%. Дилерам і оптовим "
     "покупцям діють окремі прайс-листи. Доставка по області безкоштовна від 20 000 грн.",
     "Regular clients (12 orders a year) get 3%, over 1 million UAH a year 5%. Dealers and wholesale buyers "
     "have their own price lists. Delivery within the region is free from 20,000 UAH."),
    ("return-good-quality", RETURNS, "1", "",
     "Повернення товару належної якості", "Returning goods of proper quality",
     "Клієнт хоче повернути товар, який не підійшов.", "The client wants to return goods that did not suit.",
     "", "",
     "Повернення можливе протягом 14 днів з дати поставки, якщо збережено упаковку і товарний вигляд. Заповніть "
     "заяву на повернення; кошти повертаємо протягом 5 банківських днів після приймання товару на склад.",
     "Goods can be returned within 14 days of delivery with the packaging intact. Fill in the return form; the "
     "money is refunded within 5 banking days after the goods are back at the warehouse."),
    ("return-pallets", RETURNS, "1", "Піддон",
     "Повернення піддонів і тари", "Returning pallets",
     "Як повернути піддони і отримати заставну вартість.", "How to return pallets and get the deposit back.",
     "", "",
     "Водій забирає піддони під час наступної доставки або окремим рейсом від 20 штук. Заставну вартість "
     "зараховуємо на рахунок клієнта після перевірки стану піддонів.",
     "The driver collects pallets with the next delivery, or on a separate trip from 20 pallets. The deposit is "
     "credited to the client's account after the pallets are checked."),
    ("return-defective", RETURNS, "0", "",
     "Обмін товару неналежної якості", "Exchanging defective goods",
     "Внутрішнє: клієнт просить обміняти дефектний товар.", "Internal: the client asks to exchange defective "
     "goods.",
     "", "",
     "Обмін без повернення дефектного товару погоджує керівник сервісу, якщо сума до 5 000 грн або клієнт "
     "ключовий. В інших випадках водій забирає дефектний товар під час доставки заміни.",
     "The service manager approves an exchange without taking the defect back up to 5,000 UAH or for a key "
     "client. Otherwise the driver collects the defective goods when delivering the replacement."),
]  # fmt: skip

# Generated articles per catalogue item (sizes M and L): (category, public, title uk, title en, problem uk,
# problem en, symptoms uk, symptoms en, solution uk, solution en); {item} / {item_en} are the item's names.
ARTICLE_TEMPLATES: list[tuple[str, bool, str, str, str, str, str, str, str, str]] = [
    (WARRANTY, True, "{item}: гарантійне звернення", "{item_en}: warranty claim",
     "Товар «{item_l}» вийшов з ладу або має дефект у гарантійний строк.",
     "An item of {item_en_l} failed or shows a defect within the warranty period.",
     "Товар не працює як слід; видимий дефект; дефект з'явився після нетривалого використання.",
     "It does not work as it should; a visible defect; the defect appeared after short use.",
     "1. Надішліть фото товару, етикетки з номером партії і накладної.\n2. Опишіть, за яких умов виник дефект.\n"
     "3. Ми погодимо ремонт, заміну або повернення коштів протягом 5 робочих днів. {tip}",
     "1. Send photos of the item, the label with the batch number and the delivery note.\n2. Describe when the "
     "defect appeared.\n3. We agree a repair, a replacement or a refund within 5 working days. {tip_en}"),
    (DELIVERY, True, "{item}: пошкодження під час доставки", "{item_en}: damaged in delivery",
     "Під час приймання виявлено пошкоджений товар «{item_l}».", "Damaged {item_en_l} found on receipt.",
     "Пошкоджена упаковка; бій або деформація; підмочений товар.", "Damaged packaging; breakage or dents; "
     "wet goods.",
     "Складіть акт про пошкодження з водієм, сфотографуйте товар і маркування і надішліть нам. Заміну "
     "відвантажимо з найближчою доставкою. {tip}",
     "Write a damage report with the driver, photograph the goods and labels and send them to us. The "
     "replacement goes with the next delivery. {tip_en}"),
    (QUALITY, False, "{item}: рекламація на партію", "{item_en}: batch claim",
     "Внутрішнє: кілька клієнтів повідомляють про брак у партії товару «{item_l}».",
     "Internal: several clients report defects in a batch of {item_en_l}.",
     "Однакові дефекти в одиницях однієї партії.", "The same defect in units of one batch.",
     "Зберіть номери партій і фото від клієнтів, перевірте залишки партії на складі і заблокуйте їх "
     "відвантаження. Оформіть рекламацію постачальнику. {tip}",
     "Collect the batch numbers and photos, check the batch's stock and stop shipping it. File a claim with "
     "the supplier. {tip_en}"),
    (ADVICE, True, "{item}: зберігання і використання", "{item_en}: storage and use",
     "Як зберігати і використовувати товар «{item_l}», щоб уникнути дефектів.",
     "How to store and use {item_en_l} to avoid defects.",
     "", "",
     "{description} Зберігайте в сухому приміщенні в оригінальній упаковці, дотримуйтеся інструкції "
     "виробника. {tip}",
     "{description_en} Keep in a dry place in the original packaging and follow the manufacturer's "
     "instructions. {tip_en}"),
    (RETURNS, True, "{item}: повернення й обмін", "{item_en}: returns and exchange",
     "Клієнт хоче повернути або обміняти товар «{item_l}».", "The client wants to return or exchange "
     "{item_en_l}.",
     "", "",
     "Товар належної якості повертаємо протягом 14 днів за умови збереження упаковки; дефектний — обмінюємо "
     "після перевірки. Заповніть заяву на повернення в особистому кабінеті. {tip}",
     "Goods of proper quality can be returned within 14 days with intact packaging; defective ones are "
     "exchanged after a check. Fill in the return form in the client portal. {tip_en}"),
]  # fmt: skip
# Extra advice for the items of some catalogue leaves.
LEAF_TIPS = {
    "Витратні матеріали для друку": ("Перед заміною вимкніть принтер і дайте йому охолонути.",
                                     "Switch the printer off and let it cool before a change."),
    "Папір": ("Зберігайте папір при вологості 40–60%: вологий папір зминається в принтер і застрягає.",
              "Keep paper at 40–60% humidity: damp paper jams in the printer."),
    "Освітлення": ("Не підключайте через вимикачі з підсвіткою.", "Do not connect through illuminated switches."),
    "Сухі будівельні суміші": ("Працюйте за температури від +5 до +30 °C.", "Work between +5 and +30 °C."),
    "Візки і рокли": ("Не перевищуйте вантажопідйомність.", "Do not exceed the rated load."),
}  # fmt: skip


# --- Users --------------------------------------------------------------------------------------------------


@dataclass
class _Staff:
    team: Team
    agent: User  # service@example.com
    manager: User  # service.manager@example.com
    agents: list[int]  # weighted: the demo agent more often
    sales_teams: dict[str, tuple[int, int]]  # key -> (team id, manager id)
    bench_manager: User
    names: dict[int, str]


def _seed_users(ctx: SeedContext, size: _Size) -> _Staff:
    users: list[User] = ctx.shared["users"]
    by_email = {u.email: u for u in users}
    team, _created = Team.objects.get_or_create(name=settings.SERVICE_TEAM)
    password = make_password(DEMO_PASSWORD)
    agent_group = Group.objects.get(name=Role.SERVICE_AGENT)
    agent = by_email[SERVICE_AGENT_EMAIL]
    agent.team = team
    agent.save(update_fields=["team"])
    email, name = SERVICE_MANAGER
    manager = User.objects.create(email=email, full_name=name, password=password, team=team)
    manager.groups.add(agent_group)  # a service agent who manages the team (no sales plan)
    team.manager = manager
    team.save(update_fields=["manager"])
    extra = []
    for i in range(size.extra_agents):
        user = User.objects.create(
            email=f"service.agent{i + 1}@example.com", full_name=ctx.faker.name(), password=password, team=team
        )
        user.groups.add(agent_group)
        extra.append(user)
    users += [manager, *extra]
    sales_teams = {}
    for key, email in (("kyiv", BENCH_MANAGER_EMAIL), ("lviv", "manager.lviv@example.com")):
        sales_manager = by_email[email]
        sales_teams[key] = (sales_manager.team_id, sales_manager.pk)
    names = {u.pk: u.full_name for u in users}
    return _Staff(
        team=team,
        agent=agent,
        manager=manager,
        agents=[agent.pk] * 4 + [manager.pk] + [u.pk for u in extra for _ in range(2)],
        sales_teams=sales_teams,
        bench_manager=by_email[BENCH_MANAGER_EMAIL],
        names=names,
    )


# --- What the tickets point at ------------------------------------------------------------------------------------


@dataclass
class _Base:
    first_company_id: int
    first_person: array
    people_count: array
    customers: list[int]  # company indices without an active contract (default SLA policy)
    ages: dict[int, int]  # seconds between a customer's creation and the anchor
    teams: dict[int, int | None]
    bench_companies: list[int]  # the bench manager's own customers
    contracts: list[tuple[int, int, str]]  # active: (contract id, company index, service level)
    # Orders since the window's start, by creation time: id, company index, seconds from the anchor.
    order_ids: array
    order_companies: array
    order_times: array
    orders_of: dict[int, list[int]]  # company index -> positions in the order arrays (contract and demo companies)
    products: list[tuple[int, str]]  # goods: (id, name)
    product_names: dict[int, str]

    def person(self, c: int, rnd: float) -> int | None:
        count = self.people_count[c]
        if not count or rnd >= 0.85:
            return None
        return self.first_person[c] + int(rnd / 0.85 * count)


def _load_base(ctx: SeedContext, anchor: datetime, since: int) -> _Base:
    company_ids = ctx.shared["company_ids"]
    first = company_ids[0]
    bench = next(u.pk for u in ctx.shared["users"] if u.email == BENCH_MANAGER_EMAIL)
    ages: dict[int, int] = {}
    teams: dict[int, int | None] = {}
    bench_companies: list[int] = []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT id - %s, team_id, owner_id, EXTRACT(EPOCH FROM %s - created_at)::bigint FROM contacts_company
            WHERE id BETWEEN %s AND %s AND 'customer' = ANY(roles) ORDER BY id
            """,
            [first, anchor, first, company_ids[-1]],
        )
        for c, team_id, owner_id, age in cursor.fetchall():
            ages[c] = age
            teams[c] = team_id
            if owner_id == bench:
                bench_companies.append(c)
        cursor.execute(
            "SELECT id, company_id - %s, service_level FROM deals_contract WHERE status = 'active' ORDER BY id",
            [first],
        )
        contracts = [row for row in cursor.fetchall() if row[1] in ages]
        cursor.execute(
            """
            SELECT id, company_id - %s, EXTRACT(EPOCH FROM created_at - %s)::bigint FROM deals_order
            WHERE created_at >= %s ORDER BY created_at, id
            """,
            [first, anchor, anchor + timedelta(seconds=since)],
        )
        order_ids, order_companies, order_times = array("q"), array("q"), array("q")
        for order_id, c, t in cursor.fetchall():
            order_ids.append(order_id)
            order_companies.append(c)
            order_times.append(t)
        cursor.execute(
            "SELECT id, name_uk FROM deals_product WHERE is_active AND unit NOT IN ('service', 'hour') ORDER BY id"
        )
        products = cursor.fetchall()
    contract_companies = {c for _id, c, _level in contracts}
    special = contract_companies | {0} | set(bench_companies[:5])
    orders_of: dict[int, list[int]] = {c: [] for c in special}
    for i, c in enumerate(order_companies):
        if c in special:
            orders_of[c].append(i)
    return _Base(
        first_company_id=first,
        first_person=ctx.shared["company_first_person_id"],
        people_count=ctx.shared["company_people_count"],
        customers=[c for c in ages if c not in contract_companies],
        ages=ages,
        teams=teams,
        bench_companies=[c for c in bench_companies if c not in contract_companies] or bench_companies,
        contracts=contracts,
        order_ids=order_ids,
        order_companies=order_companies,
        order_times=order_times,
        orders_of=orders_of,
        products=products,
        product_names=dict(products),
    )


# --- Knowledge base ---------------------------------------------------------------------------------------------


@dataclass
class _Articles:
    by_category: dict[str, list[int]]
    by_key: dict[str, int]
    by_product: dict[int, list[int]]
    ids: list[int] = field(default_factory=list)


def _catalogue_items() -> list[tuple[str, str, str, str, str]]:
    """(item uk, item en, leaf uk, leaf description uk, en) of every catalogue item, in CATALOGUE order."""
    items = []
    for _uk, _en, _prefix, _brands, leaves in CATALOGUE:
        for leaf_uk, _leaf_en, desc_uk, desc_en, leaf_items in leaves:
            for item in leaf_items:
                items.append((item[0], item[1], leaf_uk, desc_uk, desc_en))
    return items


def _lower_first(text: str) -> str:
    return text[0].lower() + text[1:] if text and not text[1:2].isupper() else text


def _seed_articles(ctx: SeedContext, size: _Size, base: _Base, staff: _Staff, categories: dict[str, int]) -> _Articles:
    rng = ctx.rng
    products = base.products
    items = _catalogue_items()
    # A product is its catalogue item's: the longest item name its name starts with.
    names = sorted({item[0] for item in items}, key=len, reverse=True)
    item_products: dict[str, list[int]] = {}
    for product_id, name in products:
        item = next((n for n in names if name.startswith(n)), None)
        if item is not None:
            item_products.setdefault(item, []).append(product_id)

    rows: list[KnowledgeArticle] = []
    links: list[list[int]] = []
    keys: list[str] = []
    authors = [staff.agent.pk, staff.manager.pk]
    for n, (key, category, public, prefix, t_uk, t_en, p_uk, p_en, s_uk, s_en, sol_uk, sol_en) in enumerate(ARTICLES):
        rows.append(KnowledgeArticle(
            title_uk=t_uk, title_en=t_en, problem_uk=p_uk, problem_en=p_en, symptoms_uk=s_uk, symptoms_en=s_en,
            solution_uk=sol_uk, solution_en=sol_en, category_id=categories[category], is_public=public == "1",
            is_published=True, author_id=authors[n % 2],
        ))  # fmt: skip
        linked = [p for p, name in products if prefix and name.startswith(prefix)]
        links.append(linked[:8])
        keys.append(key)
    generated = max(0, size.articles - len(ARTICLES))
    order = list(range(len(items)))
    rng.shuffle(order)
    combos = [(i, t) for t in range(len(ARTICLE_TEMPLATES)) for i in order if item_products.get(items[i][0])]
    for i, t in combos[:generated]:
        item_uk, item_en, leaf_uk, desc_uk, desc_en = items[i]
        category, public, t_uk, t_en, p_uk, p_en, s_uk, s_en, sol_uk, sol_en = ARTICLE_TEMPLATES[t]
        tip_uk, tip_en = LEAF_TIPS.get(leaf_uk, ("", ""))
        values = {
            "item": item_uk, "item_en": item_en, "item_l": _lower_first(item_uk), "item_en_l": item_en.lower(),
            "tip": tip_uk, "tip_en": tip_en, "description": desc_uk, "description_en": desc_en,
        }  # fmt: skip
        rows.append(KnowledgeArticle(
            title_uk=t_uk.format(**values), title_en=t_en.format(**values), problem_uk=p_uk.format(**values),
            problem_en=p_en.format(**values), symptoms_uk=s_uk.format(**values), symptoms_en=s_en.format(**values),
            solution_uk=sol_uk.format(**values).strip(), solution_en=sol_en.format(**values).strip(),
            category_id=categories[category], is_public=public, is_published=rng.random() > 0.05,
            author_id=authors[int(rng.random() * 2)],
        ))  # fmt: skip
        links.append(item_products[item_uk][:8])
        keys.append("")
    saved = KnowledgeArticle.objects.bulk_create(rows)
    through = KnowledgeArticle.products.through
    through.objects.bulk_create(
        through(knowledgearticle_id=article.pk, product_id=product_id)
        for article, linked in zip(saved, links, strict=True)
        for product_id in linked
    )
    by_category: dict[str, list[int]] = {}
    by_product: dict[int, list[int]] = {}
    names_by_id = {v: k for k, v in categories.items()}
    for article, linked in zip(saved, links, strict=True):
        if article.is_published:
            by_category.setdefault(names_by_id[article.category_id], []).append(article.pk)
            for product_id in linked:
                by_product.setdefault(product_id, []).append(article.pk)
    return _Articles(
        by_category=by_category,
        by_key={key: article.pk for key, article in zip(keys, saved, strict=True) if key},
        by_product=by_product,
        ids=[a.pk for a in saved],
    )


# --- Tickets: plans and stories -----------------------------------------------------------------------------------


class _Plan:
    """What is drawn for a ticket before its story: enough to tell its creation time, then to write it."""

    __slots__ = (
        "category",
        "channel",
        "company",
        "contract",
        "curated",
        "kinds",
        "order",
        "pace",
        "person",
        "policy",
        "priority",
        "product",
        "rating",
        "remaining",
        "request",
        "seed",
        "status",
        "t0",
        "team",
        "unknown",
        "when",
        "who",
    )  # fmt: skip

    def __init__(self, **values: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, values.get(name))


@dataclass
class _Story:
    t0: int
    messages: list[tuple[str, int]]  # (kind, instant)
    changes: list[tuple[str, str, int, bool, str]]  # (from, to, instant, by the agent, comment)
    status: str
    first_due: int
    res_due: int
    first_replied: int | None
    resolved: int | None
    closed: int | None
    paused: int | None
    reopens: int
    first_late: bool
    res_late: bool
    escalated: int | None
    csat_at: int | None
    rating_requested: int | None
    last: int


def _kinds(k: int, channel: str, status: str, reopen: bool, random_: Any) -> tuple[str, ...]:
    """The kinds of a ticket's k messages (about k: a ticket from the mailbox starts with the client's mail),
    ending the way its final status needs."""
    phone = channel == TicketChannel.PHONE
    if status == NEW:
        return (IN,) * min(k, 2)
    if status in DONE and k == 1 and not phone and random_() < 0.7:
        k = 2  # most mails get an answer; the rest were duplicates closed without one
    if status == WAITING and k == 1 and not phone:
        k = 2
    seq: list[str] = []
    nxt = RE if phone else IN
    while len(seq) < k:
        if seq and seq[-1] != NOTE and random_() < 0.12:
            seq.append(NOTE)
            continue
        seq.append(nxt)
        nxt = IN if nxt == RE else RE
    if status in DONE:
        if reopen and k >= 4:
            seq[-3:] = [RES, IN, RES]
        elif k >= 2 or seq[-1] == RE:
            seq[-1] = RES
    elif status == WAITING:
        seq[-1] = RE
    elif status == OPEN and next((kind for kind in reversed(seq) if kind != NOTE), IN) == RE:
        seq[-1] = IN  # the client answered: the ticket is open again
    elif status == REOPENED:
        if k < 3:
            seq = [RE if phone else IN, RES, IN]
        else:
            seq[-2:] = [RES, IN]
    return tuple(seq)


def _long_kinds(status: str, random_: Any) -> tuple[str, ...]:
    seq: list[str] = []
    nxt = IN
    while len(seq) < LONG_THREAD:
        if seq and seq[-1] != NOTE and random_() < 0.1:
            seq.append(NOTE)
            continue
        seq.append(nxt)
        nxt = IN if nxt == RE else RE
    seq[-1] = RES if status in DONE else IN
    return tuple(seq)


def _story(p: _Plan, rnd: random.Random, b_now: int, now: int) -> _Story:
    """The ticket's messages and status changes in time, its deadlines and flags, as the services would have
    written them. Everything happens in the policy's business time (agents work in working hours; for the 24/7
    policy that is all the time); the same plan and seed always give the same story."""
    clock = p.policy.clock
    first_target, resolution = p.policy.targets[p.priority]
    random_ = rnd.random
    pace = p.pace * (2.5 if random_() < 0.15 else 1.0)  # a slow ticket: most of these miss the deadline
    f1 = (0.05 + 0.85 * random_()) if random_() < 0.93 else (1.05 + 1.5 * random_())
    assigned = p.who is not None
    phone = p.channel == TicketChannel.PHONE
    status = OPEN if phone and assigned else NEW
    off = 0
    messages: list[tuple[str, int]] = []
    changes: list[tuple[str, str, int, bool, str]] = [("", status, 0, phone, "")]
    waits = 0
    pause = 0
    first: int | None = None
    resolved: int | None = None
    acted = False
    reopens = 0
    for i, kind in enumerate(p.kinds):
        if kind == IN:
            if i:
                if status in (WAITING, RESOLVED):
                    off += int(resolution * (0.05 + 0.45 * random_()) * p.pace) + MIN
                else:
                    off += int(resolution * (0.005 + 0.045 * random_()) * p.pace) + MIN
            messages.append((IN, off))
            if status == WAITING:
                waits += (off - pause) // MIN * MIN
                changes.append((WAITING, OPEN, off, False, CLIENT_ANSWERED))
                status = OPEN
            elif status == RESOLVED:
                changes.append((RESOLVED, REOPENED, off, False, CLIENT_ANSWERED))
                status, resolved = REOPENED, None
                reopens += 1
            continue
        if not acted:
            acted = True
            off += max(MIN, int(first_target * f1))
            if kind == RES and pace > p.pace:  # a slow one: solved with the first answer, but late
                off += int(resolution * (0.3 + 0.7 * random_()))
            if status == NEW and assigned and random_() < 0.7:
                changes.append((NEW, OPEN, off - min(off // 2, int(20 * MIN * random_())), True, ""))
                status = OPEN
        elif kind == NOTE:
            off += int(resolution * (0.003 + 0.03 * random_()) * pace) + MIN
        elif kind == RES:
            off += int(resolution * (0.1 + 0.6 * random_()) * pace) + MIN
        else:
            off += int(resolution * (0.02 + 0.18 * random_()) * pace) + MIN
        messages.append((kind, off))
        if kind == NOTE:
            continue
        if first is None:
            first = off
        target = RESOLVED if kind == RES else WAITING
        if status != target:
            if status == WAITING:
                waits += (off - pause) // MIN * MIN
            changes.append((status, target, off, True, ""))
            status = target
            if target == WAITING:
                pause = off
            else:
                resolved = off
    if p.status == OPEN and status == NEW:  # assigned, not answered yet
        off += max(MIN, int(first_target * f1 * 0.3))
        changes.append((NEW, OPEN, off, True, ""))
        status = OPEN
    if p.status in DONE and status != RESOLVED:  # resolved without a reply (a duplicate)
        off += int(resolution * (0.02 + 0.18 * random_())) + MIN
        if status == WAITING:
            waits += (off - pause) // MIN * MIN
        changes.append((status, RESOLVED, off, True, ""))
        status, resolved = RESOLVED, off
    expected = RESOLVED if p.status in DONE else p.status
    if status != expected:
        raise RuntimeError(f"a seeded story ended {status}, not {expected}: {p.kinds}")

    # Placement: a closed ticket ends before now; an open one is due `remaining` business seconds from now.
    margin = 10 * MIN
    if p.status in DONE:
        b0 = clock.b(p.when)
        t0 = p.when
        if phone:  # the agent opens it during the call, in working hours
            b0 += MIN + int(30 * MIN * random_())
            t0 = clock.t(b0)
        if b0 + off > b_now - margin:
            b0 = b_now - margin - off
            t0 = clock.t(b0)
    else:
        remaining = p.remaining
        if remaining > resolution + waits - off - margin:
            remaining = resolution + waits - off - margin
        b0 = b_now + remaining - resolution - waits
        t0 = clock.t(b0)

    def at(offset: int) -> int:
        return t0 if offset == 0 else clock.t(b0 + offset)

    first_due = clock.t(b0 + first_target)
    res_due = clock.t(b0 + resolution + waits)
    msgs = [(kind, at(o)) for kind, o in messages]
    timeline = [(a, b, at(o), agent, comment) for a, b, o, agent, comment in changes]
    replied = at(first) if first is not None else None
    resolved_at = at(resolved) if resolved is not None else None
    closed_at = csat_at = requested = None
    final = status
    if resolved_at is not None:
        requested = resolved_at + MIN
        if p.status == CLOSED:
            closing = resolved_at + int(DAY * (2 + 5 * random_()))
            if closing < now:
                closed_at = closing
                timeline.append((RESOLVED, CLOSED, closing, True, ""))
                final = CLOSED
        if p.rating:
            rated = resolved_at + int(HOUR * (0.5 + 47.5 * random_()))
            if rated < now:
                csat_at = rated
    active = final in (NEW, OPEN, REOPENED)
    end = resolved_at if resolved_at is not None else now
    first_late = replied > first_due if replied is not None else first_due < end and final != WAITING
    candidates = [first_due] if first_late else []
    if res_due < end and final != WAITING:
        candidates.append(res_due)
    escalated = min(candidates) + 3 * MIN if candidates else None
    if escalated is not None and escalated > end:
        escalated = None
    if resolved_at is not None:
        res_late = resolved_at > res_due
    else:
        res_late = active and escalated is not None and res_due < escalated
    last = max(msgs[-1][1] if msgs else t0, timeline[-1][2], csat_at or 0)
    return _Story(
        t0=t0, messages=msgs, changes=timeline, status=final, first_due=first_due, res_due=res_due,
        first_replied=replied, resolved=resolved_at, closed=closed_at, paused=at(pause) if final == WAITING else None,
        reopens=reopens, first_late=first_late, res_late=res_late, escalated=escalated, csat_at=csat_at,
        rating_requested=requested, last=last,
    )  # fmt: skip


# --- Tickets: planning ----------------------------------------------------------------------------------------------


@dataclass
class _Context:
    """What planning and writing the tickets share."""

    ctx: SeedContext
    size: _Size
    base: _Base
    staff: _Staff
    policies: dict[str, _Policy]  # by service level
    default: _Policy
    contract_of: dict[int, tuple[int, str]]  # company index -> its latest active contract (id, service level)
    now: int
    b_now: dict[int, int]  # policy id -> business time of now
    rnd: random.Random = field(default_factory=random.Random)

    def policy_of(self, company: int | None) -> tuple[_Policy, int | None]:
        """The policy service.services.sla_policy_for picks for the company, and its active contract."""
        contract = self.contract_of.get(company) if company is not None else None
        if contract is None:
            return self.default, None
        return self.policies.get(contract[1], self.default), contract[0]

    def story(self, plan: _Plan) -> _Story:
        self.rnd.seed(plan.seed)
        return _story(plan, self.rnd, self.b_now[plan.policy.id], self.now)


def _has(template: str, order: bool, product: bool) -> bool:
    return ("{order}" not in template or order) and ("{product}" not in template or product)


def _rating(stars: int, random_: Any) -> tuple[int, str]:
    comments = CSAT_COMMENTS[stars]
    return stars, comments[int(random_() * len(comments))]


def _remaining(status: str, targets: tuple[int, int], random_: Any) -> int:
    """Business seconds until an open ticket's resolution deadline (negative: breached). New tickets are fresh:
    most are within their first-answer target."""
    first, resolution = targets
    if status == NEW:
        return resolution - int(first * 1.3 * random_())
    low, high = {OPEN: (0.05, 1.3), WAITING: (0.1, 1.2), REOPENED: (0.3, 1.5)}[status]
    return int(resolution * (1 - low - (high - low) * random_()))


def _pick_order(tc: _Context, t0: int, company: int | None, *, required: bool = False) -> int | None:
    """An order (its position in the base arrays) placed 1 hour to 30 days before t0: of the company, or of a
    customer without an active contract (whose tickets follow the default policy). `required`: a curated
    ticket names it, so an older one will do."""
    base = tc.base
    random_ = tc.ctx.rng.random
    if company is not None:
        before = [i for i in base.orders_of.get(company, ()) if base.order_times[i] <= t0 - HOUR]
        recent = [i for i in before if base.order_times[i] >= t0 - 45 * DAY]
        if recent:
            return recent[int(random_() * len(recent))]
        return before[-1] if before and required else None
    lo = bisect_left(base.order_times, t0 - (365 if required else 30) * DAY)
    hi = bisect_right(base.order_times, t0 - HOUR)
    if hi <= lo:
        return None
    for _ in range(20):
        i = lo + int(random_() * (hi - lo))
        c = base.order_companies[i]
        if c in base.ages and c not in tc.contract_of:
            return i
    return None


def _pick_customer(tc: _Context, t0: int) -> int:
    """A customer without an active contract that existed a day before t0 (earlier ones more often)."""
    pool = tc.base.customers
    random_ = tc.ctx.rng.random
    for _ in range(50):
        c = pool[int(len(pool) * random_() ** 1.6)]
        if tc.base.ages[c] >= DAY - t0:
            return c
    return max(pool, key=tc.base.ages.__getitem__)


def _pick_product(tc: _Context, prefix: str = "") -> int | None:
    products = tc.base.products
    if not products:
        return None
    random_ = tc.ctx.rng.random
    if prefix:
        matching = [p for p, name in products if name.startswith(prefix)]
        if matching:
            return matching[int(random_() * len(matching))]
    return products[int(random_() * len(products))][0]


def _assignee(tc: _Context, team: str, status: str, who: str | None = "agent") -> int | None:
    if status == NEW or who is None:
        return None
    if team != "service":
        return tc.staff.sales_teams[team][1]
    if who == "agent":
        return tc.staff.agent.pk
    if who == "manager":
        return tc.staff.manager.pk
    agents = tc.staff.agents
    return agents[int(tc.ctx.rng.random() * len(agents))]


def _sales_team(tc: _Context, company: int | None) -> str:
    """The sales team of the company's own team works a fifth of its tickets; the service team the rest."""
    team_id = tc.base.teams.get(company) if company is not None else None
    for key, (sales_team, _manager) in tc.staff.sales_teams.items():
        if team_id == sales_team and tc.ctx.rng.random() < 0.2:
            return key
    return "service"


def _plan_curated(tc: _Context) -> list[_Plan]:
    rng = tc.ctx.rng
    random_ = rng.random
    base = tc.base
    premium = [c for c, (_id, level) in sorted(tc.contract_of.items()) if level == "premium" and level in tc.policies]
    plans = []
    bench = iter(base.bench_companies * 3)
    for n, (status, category, channel, priority, _subject, messages, options) in enumerate(CURATED):
        kind = options.get("company")
        company: int | None
        if kind == "demo":
            company = 0
        elif kind == "bench":
            company = next(bench)
        elif kind == "unknown":
            company = None
        elif "due" in options and premium:
            company = premium[n % len(premium)]
        else:
            company = -1  # a customer picked once the creation time is known
        policy, contract = tc.policy_of(company if company is not None and company >= 0 else None)
        plan = _Plan(
            status=status, category=category, channel=channel, priority=priority, kinds=tuple(k for k, _t in messages),
            policy=policy, seed=rng.getrandbits(32), pace=1.0, team=options.get("team", "service"),
            who=options.get("who"), company=company, contract=contract, curated=n, rating=options.get("rating"),
            unknown=kind == "unknown",
        )  # fmt: skip
        if status in DONE:
            plan.when = tc.now - int(options.get("age", 3) * DAY) - int(8 * HOUR * random_())
        elif "due" in options:
            plan.remaining = options["due"] * MIN
        else:
            plan.remaining = _remaining(status, policy.targets[priority], random_)
        plans.append(plan)
    for n, (status, options) in enumerate(CURATED_LONG):
        plans.append(_long_plan(tc, status, options, n))
    for plan in plans:
        _place(tc, plan)
    return plans


def _long_plan(tc: _Context, status: str, options: dict[str, Any], n: int) -> _Plan:
    rng = tc.ctx.rng
    bench = tc.base.bench_companies or tc.base.customers
    company = bench[n % len(bench)]
    policy, contract = tc.policy_of(company)
    plan = _Plan(
        status=status, category=DELIVERY, channel=TicketChannel.EMAIL.value, priority=TicketPriority.NORMAL.value,
        kinds=_long_kinds(status, rng.random), policy=policy, seed=rng.getrandbits(32), pace=0.3,
        team=options.get("team", "service"), who=options.get("who", "agent"), company=company, contract=contract,
        curated=-1 - n, rating=(5, "") if status in DONE else None, unknown=False,
    )  # fmt: skip
    if status in DONE:
        plan.when = tc.now - 75 * DAY
    else:
        plan.remaining = -DAY
    return plan


def _plan_generated(tc: _Context) -> list[_Plan]:
    size, rng = tc.size, tc.ctx.rng
    random_ = rng.random
    if not size.tickets:
        return []
    plans = [_long_plan(tc, OPEN if n % 2 else RESOLVED, {"who": "any"}, n)
             for n in range(len(CURATED_LONG), size.long_threads)]  # fmt: skip
    for plan in plans:
        _place(tc, plan)
    curated_open = sum(1 for entry in CURATED if entry[0] not in DONE) + 1
    total = size.tickets - len(CURATED) - len(CURATED_LONG) - len(plans)
    n_open = max(0, round(size.tickets * OPEN_SHARE) - curated_open)
    tables = {
        "open": _weighted_table(OPEN_MIX, size=100),
        "category": _weighted_table(CATEGORY_WEIGHTS, size=100),
        "channel": _weighted_table(CHANNELS, size=100),
        "priority": _weighted_table(PRIORITIES, size=100),
        "count": _weighted_table(MESSAGE_COUNTS, size=100),
        "rating": _weighted_table(RATINGS, size=100),
    }
    contracts = sorted(tc.contract_of)
    premium = [c for c in contracts if tc.contract_of[c][1] == "premium" and "premium" in tc.policies]
    window = size.window_days * DAY

    def draw(name: str) -> Any:
        table = tables[name]
        return table[int(random_() * len(table))]

    for i in range(total):
        status = draw("open") if i < n_open else (CLOSED if random_() < 0.92 else RESOLVED)
        category, channel, priority = draw("category"), draw("channel"), draw("priority")
        planted = status in (NEW, OPEN, REOPENED) and premium and random_() < 0.1
        company: int | None = -1
        if planted:
            company = premium[int(random_() * len(premium))]
        elif contracts and random_() < 0.15:
            company = contracts[int(len(contracts) * random_() ** 1.5)]
        policy, contract = tc.policy_of(company if company >= 0 else None)
        k = draw("count")
        plan = _Plan(
            status=status, category=category, channel=channel, priority=priority,
            kinds=_kinds(k, channel, status, status in DONE and random_() < 0.05, random_), policy=policy,
            seed=rng.getrandbits(32), pace=1.0, team="service", who=None if status == NEW else "any",
            company=company, contract=contract, curated=None, unknown=False,
            request=int(random_() * len(TEXTS[category].requests)),
            rating=_rating(draw("rating"), random_) if status in DONE and random_() < 0.4 else None,
        )  # fmt: skip
        if status in DONE:
            plan.when = tc.now - HOUR - int(window * random_() ** 1.15)
        elif planted:
            plan.remaining = int(HOUR * (-2 + 6 * random_()))
        else:
            plan.remaining = _remaining(status, policy.targets[priority], random_)
        if status == NEW and channel == TicketChannel.EMAIL and company == -1 and random_() < 0.1:
            plan.company, plan.unknown = None, True
        _place(tc, plan)
        plans.append(plan)
    return plans


def _place(tc: _Context, plan: _Plan) -> None:
    """Tell the ticket's creation time from its story, then pick what it is about: a company that existed then,
    one of its orders placed shortly before, a person, a product; and who works it."""
    random_ = tc.ctx.rng.random
    plan.t0 = tc.story(plan).t0
    if plan.unknown:
        plan.team, plan.who = "service", _assignee(tc, "service", plan.status, plan.who)
        return
    category = plan.category
    fixed = plan.company if plan.company is not None and plan.company >= 0 else None
    if plan.curated is not None and plan.curated >= 0:
        entry = CURATED[plan.curated]
        texts = entry[4] + "".join(t for _k, t in entry[5])
        wants_order = bool(entry[6].get("order"))
        wants_product = entry[6].get("product")
    elif plan.curated is not None:  # a long thread
        texts, wants_order, wants_product = "", False, False
    else:
        subject, body = TEXTS[category].requests[plan.request]
        texts = subject + body
        wants_order = "{order}" in texts or random_() < ORDER_SHARE[category] * 0.5
        wants_product = "{product}" in texts or random_() < PRODUCT_SHARE[category]
    order = _pick_order(tc, plan.t0, fixed, required=plan.curated is not None) if wants_order else None
    if order is None and "{order}" in texts and plan.curated is None:
        # No order to complain about: another request of the category, or a question.
        options = [i for i, (s, b) in enumerate(TEXTS[category].requests) if "{order}" not in s + b]
        if not options:
            category = plan.category = ADVICE
            options = [i for i, (s, b) in enumerate(TEXTS[ADVICE].requests) if "{order}" not in s + b]
        plan.request = options[int(random_() * len(options))]
        subject, body = TEXTS[category].requests[plan.request]
        wants_product = wants_product or "{product}" in subject + body
    company = fixed
    if order is not None:
        company = tc.base.order_companies[order]
    elif company is None:
        company = _pick_customer(tc, plan.t0)
    plan.company, plan.order = company, order
    plan.person = tc.base.person(company, random_())
    if wants_product:
        # From the order's lines once they are read (-1), else one of the catalogue.
        prefix = wants_product if isinstance(wants_product, str) else ""
        plan.product = -1 if order is not None and not prefix else _pick_product(tc, prefix)
    if plan.team == "service" and plan.curated is None:
        plan.team = _sales_team(tc, company)
    plan.who = _assignee(tc, plan.team, plan.status, plan.who)


# --- Tickets: writing --------------------------------------------------------------------------------------------

TICKET_COLUMNS = [
    "id", "created_at", "updated_at", "number", "company_id", "person_id", "contract_id", "order_id", "product_id",
    "channel", "category_id", "priority", "subject", "description", "status", "assignee_id", "team_id",
    "created_by_id", "sla_policy_id", "first_response_due_at", "resolution_due_at", "first_responded_at",
    "resolved_at", "closed_at", "sla_paused_at", "first_response_breached", "resolution_breached", "escalated_at",
    "reopen_count", "previous_id", "needs_qualification", "reply_key", "csat_rating", "csat_comment", "csat_at",
    "rating_requested_at",
]  # fmt: skip
MESSAGE_COLUMNS = ["ticket_id", "kind", "author_id", "person_id", "from_email", "body_html", "body_text",
                   "message_id", "created_at", "emailed_at"]  # fmt: skip
CHANGE_COLUMNS = ["ticket_id", "from_status", "to_status", "changed_by_id", "changed_at", "comment"]
USE_COLUMNS = ["article_id", "ticket_id", "user_id", "created_at"]


@dataclass
class _Lookups:
    """Read once the plans are made: the names behind the ids the tickets point at."""

    orders: dict[int, tuple[str, int | None]]  # order id -> (number, first line's product)
    people: dict[int, tuple[str, str]]  # person id -> (first name, full name)
    emails: dict[int, str]  # person id -> e-mail


def _lookups(tc: _Context, plans: Sequence[_Plan]) -> _Lookups:
    base = tc.base
    order_ids = sorted({base.order_ids[p.order] for p in plans if p.order is not None})
    person_ids = sorted({p.person for p in plans if p.person is not None})
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT o.id, o.number,
                   (SELECT l.product_id FROM deals_orderline l WHERE l.order_id = o.id ORDER BY l.id LIMIT 1)
            FROM deals_order o WHERE o.id = ANY(%s)
            """,
            [order_ids],
        )
        orders = {row[0]: (row[1], row[2]) for row in cursor.fetchall()}
        cursor.execute("SELECT id, first_name, last_name FROM contacts_person WHERE id = ANY(%s)", [person_ids])
        people = {pk: (first, f"{first} {last}") for pk, first, last in cursor.fetchall()}
        cursor.execute(
            """
            SELECT DISTINCT ON (person_id) person_id, value FROM contacts_contactpoint
            WHERE person_id = ANY(%s) AND kind = 'email' ORDER BY person_id, is_primary DESC, id
            """,
            [person_ids],
        )
        emails = dict(cursor.fetchall())
    return _Lookups(orders, people, emails)


class _Writer:
    """Turns plans into rows, one COPY per table per chunk of tickets."""

    def __init__(self, tc: _Context, time_: _Time, lookups: _Lookups, categories: dict[str, int],
                 articles: _Articles, first_id: int) -> None:  # fmt: skip
        self.tc = tc
        self.time_ = time_
        self.lookups = lookups
        self.categories = categories
        self.articles = articles
        self.next_id = first_id
        self.counters: dict[int, int] = {}
        self.years: dict[int, int] = {}
        self.batch = _Batch({
            "service_ticket": TICKET_COLUMNS, "service_ticketmessage": MESSAGE_COLUMNS,
            "service_ticketstatuschange": CHANGE_COLUMNS, "service_articleuse": USE_COLUMNS,
        })  # fmt: skip
        self.pools: dict[tuple[str, str, bool, bool], list[str]] = {}
        self.service_team = tc.staff.team.pk
        self.first_day: int | None = None

    def year(self, t: int) -> int:
        day = self.time_.local_day(t)
        year = self.years.get(day)
        if year is None:
            year = self.years[day] = (self.time_.anchor_date + timedelta(days=day)).year
        return year

    def pool(self, category: str, name: str, order: bool, product: bool) -> list[str]:
        key = (category, name, order, product)
        texts = self.pools.get(key)
        if texts is None:
            texts = self.pools[key] = [t for t in getattr(TEXTS[category], name) if _has(t, order, product)]
        return texts

    def texts(self, plan: _Plan, values: dict[str, str]) -> tuple[str, str, list[str]]:
        """Subject, description and the messages' texts."""
        random_ = self.tc.ctx.rng.random
        kinds = plan.kinds
        if plan.curated is not None and plan.curated >= 0:
            entry = CURATED[plan.curated]
            subject = entry[4].format_map(values)
            bodies = [text.format_map(values) for _kind, text in entry[5]]
        elif plan.curated is not None:
            subject = LONG_SUBJECTS[(-1 - plan.curated) % len(LONG_SUBJECTS)]
            pools = {IN: LONG_INBOUND, RE: LONG_REPLIES, RES: LONG_REPLIES, NOTE: LONG_NOTES}
            bodies = []
            for i, kind in enumerate(kinds):
                texts = pools[kind]
                bodies.append(texts[int(random_() * len(texts))].format_map({**values, "n": 10 + i // 4}))
            bodies[-1] = bodies[-1] if kinds[-1] != RES else TEXTS[DELIVERY].resolutions[0].format_map(values)
        else:
            has_order, has_product = bool(values["order"]), bool(values["product"])
            subject, first = TEXTS[plan.category].requests[plan.request]
            subject = subject.format_map(values)
            bodies = []
            replied = False
            for i, kind in enumerate(kinds):
                if kind == IN and i == 0:
                    texts = [first]
                elif kind == IN:
                    texts = REOPEN_TEXTS if kinds[i - 1] == RES else self.pool(plan.category, "follow_ups", has_order,
                                                                               has_product)  # fmt: skip
                elif kind == NOTE:
                    texts = self.pool(plan.category, "notes", has_order, has_product)
                elif kind == RES:
                    texts = self.pool(plan.category, "resolutions", has_order, has_product)
                else:
                    texts = self.pool(plan.category, "replies", has_order, has_product)
                    if replied and random_() < 0.5:
                        texts = self.pool(plan.category, "follow_ups", has_order, has_product)
                        texts = ["Доповнення: " + _lower_first(t) for t in texts]
                    replied = True
                bodies.append(texts[int(random_() * len(texts))].format_map(values))
        description = bodies[0] if kinds[0] == IN else PHONE_DESCRIPTION.format(subject=_lower_first(subject))
        return subject[:300], description, bodies

    def write(self, plan: _Plan) -> None:
        tc, at = self.tc, self.time_.at
        rng = tc.ctx.rng
        story = tc.story(plan)
        ticket_id = self.next_id
        self.next_id += 1
        year = self.year(story.t0)
        sequence = self.counters[year] = self.counters.get(year, 0) + 1
        number = f"S-{year}-{sequence:06d}"
        day = self.time_.local_day(story.t0)
        self.first_day = day if self.first_day is None else min(self.first_day, day)

        base, lookups = tc.base, self.lookups
        order_id = base.order_ids[plan.order] if plan.order is not None else None
        order_number, order_product = lookups.orders.get(order_id, ("", None)) if order_id else ("", None)
        product = order_product if plan.product == -1 else plan.product
        company_id = base.first_company_id + plan.company if plan.company is not None else None
        first_name, full_name = lookups.people.get(plan.person, ("колеги", "Відділ закупівель"))
        who = plan.who
        values = {
            "order": order_number, "product": base.product_names.get(product, "") if product else "",
            "client": full_name, "client_first": first_name, "number": number,
            "agent": tc.staff.names.get(who, tc.staff.agent.full_name),
        }  # fmt: skip
        subject, description, bodies = self.texts(plan, values)
        email = plan.channel == TicketChannel.EMAIL
        if plan.unknown:
            from_email = UNKNOWN_SENDERS[ticket_id % len(UNKNOWN_SENDERS)]
        else:
            from_email = lookups.emails.get(plan.person, "") if email else ""
        domain = from_email.rpartition("@")[2] or "mail.example.com"

        team = self.service_team if plan.team == "service" else tc.staff.sales_teams[plan.team][0]
        rating = plan.rating if story.csat_at is not None else None
        rows = self.batch.rows
        rows["service_ticket"].append((
            ticket_id, at(story.t0), at(story.last), number, company_id, plan.person, plan.contract, order_id, product,
            plan.channel, self.categories[plan.category], plan.priority, subject, description, story.status, who,
            team, who if plan.channel == TicketChannel.PHONE else None, plan.policy.id, at(story.first_due),
            at(story.res_due), _at(at, story.first_replied), _at(at, story.resolved), _at(at, story.closed),
            _at(at, story.paused), story.first_late, story.res_late, _at(at, story.escalated), story.reopens, None,
            plan.company is None, f"{rng.getrandbits(48):012x}", rating[0] if rating else None,
            rating[1] if rating else "", _at(at, story.csat_at), _at(at, story.rating_requested),
        ))  # fmt: skip
        messages = rows["service_ticketmessage"]
        for i, ((kind, t), text) in enumerate(zip(story.messages, bodies, strict=True)):
            html = linebreaks(text, autoescape=True)
            if kind == IN:
                message_id = f"<{ticket_id}.{i}.{rng.getrandbits(24):06x}@{domain}>" if email else ""
                messages.append((ticket_id, KIND_OF[kind], None, plan.person, from_email, html, text, message_id,
                                 at(t), None))  # fmt: skip
            elif kind == NOTE:
                messages.append((ticket_id, KIND_OF[kind], who, None, "", html, text, "", at(t), None))
            else:
                sent = at(t + MIN) if t + MIN < tc.now else None
                messages.append((ticket_id, KIND_OF[kind], who, None, "", html, text,
                                 f"<{number}.{i}@{SUPPORT_DOMAIN}>", at(t), sent))  # fmt: skip
        changes = rows["service_ticketstatuschange"]
        creator = who if plan.channel == TicketChannel.PHONE else None
        for n, (old, new, t, by_agent, comment) in enumerate(story.changes):
            changed_by = (who if by_agent else None) if n else creator
            changes.append((ticket_id, old, new, changed_by, at(t), comment))
        if story.resolved is not None and story.status in DONE:
            article = self.article_for(plan, product)
            if article is not None:
                rows["service_articleuse"].append((article, ticket_id, who, at(story.resolved)))

    def article_for(self, plan: _Plan, product: int | None) -> int | None:
        articles = self.articles
        random_ = self.tc.ctx.rng.random
        if plan.curated is not None and plan.curated >= 0:
            key = CURATED[plan.curated][6].get("article")
            return articles.by_key.get(key) if key else None
        if random_() >= 0.12:
            return None
        pool = articles.by_product.get(product) if product else None
        pool = pool or articles.by_category.get(plan.category)
        return pool[int(random_() * len(pool))] if pool else None


def _at(at: Any, t: int | None) -> str | None:
    return None if t is None else at(t)


# --- Entry point ----------------------------------------------------------------------------------------------


def _policies(anchor: datetime, first_day: int, last_day: int) -> tuple[dict[str, _Policy], _Policy]:
    by_level: dict[str, _Policy] = {}
    default: _Policy | None = None
    for policy in SlaPolicy.objects.filter(is_active=True).prefetch_related("targets").order_by("pk"):
        targets = {
            t.priority: (t.first_response_minutes * MIN, t.resolution_minutes * MIN) for t in policy.targets.all()
        }
        if set(targets) != set(TicketPriority.values):
            continue  # service.services.due_times gives no deadlines without a target: not worth seeding
        entry = _Policy(policy.pk, _BusinessClock(anchor, first_day, last_day, BusinessHours.of(policy)), targets)
        if policy.service_level and policy.service_level not in by_level:
            by_level[policy.service_level] = entry
        if policy.is_default:
            default = entry
    if default is None:
        raise RuntimeError("service.seed needs a default SLA policy with a target per priority (migration 0002)")
    return by_level, default


def _contracts(base: _Base) -> dict[int, tuple[int, str]]:
    """Each company's active contract that service.services.sla_policy_for takes (latest start, then id)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT company_id - %s, id, service_level FROM deals_contract WHERE status = 'active' "
            "ORDER BY starts_on DESC, id DESC",
            [base.first_company_id],
        )
        latest: dict[int, tuple[int, str]] = {}
        for c, contract_id, level in cursor.fetchall():
            if c in base.ages and c not in latest:
                latest[c] = (contract_id, level)
    return latest


def seed(ctx: SeedContext) -> None:
    size = SIZES[ctx.size]
    clock = _Clock(timezone.now().replace(hour=0, minute=0, second=0, microsecond=0))
    anchor = clock.anchor
    time_ = _Time(clock)
    # "Now" for open tickets: the start of this minute, so that nothing is dated after the seeding.
    now = _seconds(timezone.now(), anchor) // MIN * MIN
    staff = _seed_users(ctx, size)
    window = size.window_days + 90  # days of history, with room for stories that end before the window
    base = _load_base(ctx, anchor, -window * DAY)
    policies, default = _policies(anchor, -window - 400, 400)
    categories = {name: TicketCategory.objects.get_or_create(name=name)[0].pk for name, _w in CATEGORY_WEIGHTS}
    tc = _Context(ctx=ctx, size=size, base=base, staff=staff, policies=policies, default=default,
                  contract_of=_contracts(base), now=now, b_now={})  # fmt: skip
    tc.b_now = {p.id: p.clock.b(now) for p in [default, *policies.values()]}
    articles_created = anchor - timedelta(days=size.window_days + 30)
    articles = _seed_articles(ctx, size, base, staff, categories)

    plans = _plan_curated(tc) + _plan_generated(tc)
    order = sorted(range(len(plans)), key=lambda i: (plans[i].t0, i))
    lookups = _lookups(tc, plans)
    bulk = ctx.size in BULK_LOAD_SIZES
    with _bulk_load(BIG_TABLES, enabled=bulk):
        first_id = _reserve_ids("service_ticket", len(plans))
        writer = _Writer(tc, time_, lookups, categories, articles, first_id)
        for start in range(0, len(order), CHUNK):
            for i in order[start : start + CHUNK]:
                writer.write(plans[i])
            writer.batch.flush()
    _finish(writer, ctx, articles_created)
    ctx.shared.update(ticket_ids=range(first_id, first_id + len(plans)), article_ids=articles.ids)


def _finish(writer: _Writer, ctx: SeedContext, articles_created: datetime) -> None:
    from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce

    from service.models import TicketNumber
    from service.reports import rollups_compute

    with connection.cursor() as cursor:
        for year, last in sorted(writer.counters.items()):
            # A counter never goes back: numbers already given out stay unique.
            cursor.execute(
                f"INSERT INTO {TicketNumber._meta.db_table} (year, last) VALUES (%s, %s) "
                "ON CONFLICT (year) DO UPDATE SET last = GREATEST(EXCLUDED.last, "
                f"{TicketNumber._meta.db_table}.last)",
                [year, last],
            )
    uses = (
        ArticleUse.objects.filter(article=OuterRef("pk")).order_by().values("article").annotate(n=Count("id"))
    ).values("n")
    # One UPDATE: the search vector (service.kb), the solved counts, and the dates bulk_create cannot set.
    KnowledgeArticle.objects.update(
        search_vector=search_vector(),
        solved_count=Coalesce(Subquery(uses, output_field=IntegerField()), Value(0)),
        created_at=articles_created,
        updated_at=articles_created,
    )
    tables = ["service_knowledgearticle", "service_knowledgearticle_products", "service_articleuse",
              "service_ticketnumber"]  # fmt: skip
    if ctx.size not in BULK_LOAD_SIZES:
        tables += list(BIG_TABLES)
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")
    if writer.first_day is not None:
        first = writer.time_.anchor_date + timedelta(days=writer.first_day)
        rollups_compute(start=first, end=timezone.localdate(timezone.now(), KYIV))
