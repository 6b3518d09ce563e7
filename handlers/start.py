"""First contact: /start, the language choice, the privacy notice, and "your situation".

Order: language (from the platform if it is one of ours, otherwise four buttons) -> greeting
with the short privacy notice -> the optional, skippable audience question -> the main menu.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.i18n import N_, normalize_language
from faq.languages import LANGS
from handlers import ids
from handlers.ids import StaleButton
from handlers.model import Button
from handlers.ui import language_rows, show_main_menu

if TYPE_CHECKING:
    from handlers.context import TurnContext

AUDIENCE_CHOICES: tuple[tuple[str, str], ...] = (
    ("ukr-status", N_("I have UKR status (PESEL UKR)")),
    ("residence-card", N_("I have a residence card (karta pobytu)")),
    ("other-tcn", N_("Other / not sure")),
)


async def on_start(ctx: TurnContext) -> None:
    """``/start`` and Viber's "conversation started"."""
    if ctx.user.lang is None:
        lang = normalize_language(ctx.event.sender.language_code)
        if lang is None:
            ask_language(ctx)
            return
        ctx.user.lang = lang
    welcome(ctx)


async def on_language_command(ctx: TurnContext) -> None:
    """``/language``."""
    ask_language(ctx)


def ask_language(ctx: TurnContext) -> None:
    """Four buttons, under the question asked in all four languages (we may not know theirs)."""
    prompt = "\n".join(
        ctx.translator_for(code).gettext("Please choose your language:") for code in LANGS
    )
    ctx.reply(prompt, language_rows(), kind="language")


def privacy_notice_short(ctx: TurnContext) -> str:
    """The two-line notice shown at the start (the full one is behind a button and /privacy)."""
    _ = ctx.t.gettext
    return "\n".join(
        (
            _(
                "🔒 I keep only your language, your situation (if you tell me) and your questions, "
                "with numbers and personal details removed."
            ),
            _(
                "I never ask for PESEL, passport numbers or logins, so please don't send them. "
                "/forget deletes everything."
            ),
        )
    )


def privacy_button(ctx: TurnContext) -> Button:
    return Button(ctx.t.gettext("🔒 Privacy notice"), ids.privacy())


def welcome(ctx: TurnContext) -> None:
    """Greeting with the privacy notice, then the audience question (or the menu if known)."""
    _ = ctx.t.gettext
    greeting = "\n".join(
        (
            _(
                "Hello! 👋 I'm the Małopolska Otwarta bot. I answer questions about life in "
                "Małopolska: legal stay, PESEL, work, health, school, benefits and documents."
            ),
            _(
                "Ask in your own words or pick a topic. "
                "If I can't help, I'll tell you where to turn."
            ),
        )
    )
    ctx.reply(
        greeting + "\n\n" + privacy_notice_short(ctx), [[privacy_button(ctx)]], kind="welcome"
    )
    ctx.user.notice_seen = True
    if ctx.user.audience is None:
        ask_audience(ctx)
    else:
        show_main_menu(ctx)


def ask_audience(ctx: TurnContext) -> None:
    _ = ctx.t.gettext
    rows = [[Button(_(label), ids.audience(value))] for value, label in AUDIENCE_CHOICES]
    rows.append([Button(_("Skip"), ids.audience(ids.SKIP))])
    ctx.reply(
        _("One optional question, so I can tailor my answers: what is your situation?"),
        rows,
        kind="audience",
    )


async def on_language_button(ctx: TurnContext, args: list[str]) -> None:
    """``lang:<code>``: set the language; during the first contact, go on with the welcome."""
    if len(args) != 1 or args[0] not in LANGS:
        raise StaleButton(":".join(args))
    first_contact = not ctx.user.notice_seen
    ctx.user.lang = args[0]
    if first_contact:
        welcome(ctx)
    else:
        show_main_menu(ctx, ctx.t.gettext("Done! I'll speak English from now on."))


async def on_audience_button(ctx: TurnContext, args: list[str]) -> None:
    """``aud:<audience|skip>``: remember the situation (or forget it on "Skip"), then the menu."""
    known = {value for value, _label in AUDIENCE_CHOICES}
    if len(args) != 1 or (args[0] not in known and args[0] != ids.SKIP):
        raise StaleButton(":".join(args))
    _ = ctx.t.gettext
    if args[0] == ids.SKIP:
        ctx.user.audience = None
        thanks = _("No problem.")
    else:
        ctx.user.audience = args[0]
        thanks = _("Thank you! I'll keep that in mind.")
    show_main_menu(
        ctx,
        thanks
        + " "
        + _("What would you like to know? Pick a topic or type your question in your own words."),
    )
