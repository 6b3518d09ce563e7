"""``/privacy`` (the full notice), ``/forget`` (delete everything, after a confirmation), and
the gentle note when someone sends a PESEL or a passport number nobody asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.privacy import sensitive_kinds
from handlers import ids
from handlers.ids import StaleButton
from handlers.model import Button
from handlers.ui import menu_button, show_main_menu

if TYPE_CHECKING:
    from handlers.context import TurnContext


def privacy_notice(ctx: TurnContext) -> str:
    """The full notice: one catalog string a paragraph, so translators see short units."""
    _ = ctx.t.gettext
    return "\n\n".join(
        (
            _("🔒 **Privacy notice**"),
            _(
                'This bot is part of the programme "Małopolska Otwarta" of the Wojewoda Małopolski '
                "and the Województwo Małopolskie, co-financed by the EU Asylum, Migration and "
                "Integration Fund (FAMI)."
            ),
            _(
                "**What I keep:**\n"
                "- your user ID in the messenger, so I can reply to you\n"
                "- the language you chose and, if you told me, your situation\n"
                "- your questions, with phone, PESEL, document and account numbers removed, "
                "and whether an answer helped\n"
                "- if you talk to a consultant, that conversation"
            ),
            _("I don't keep your name or your phone number."),
            _(
                "**What for:** to answer you, to pass your question to a consultant when you ask, "
                "and to improve the answers. Never for advertising; nothing is sold."
            ),
            _(
                "**Never send** your PESEL, passport or residence card number, or logins and codes "
                "(Profil Zaufany, mObywatel, bank). I will never ask for them, and neither will "
                "a real consultant."
            ),
            _("**/forget** deletes everything I keep about you, at once."),
        )
    )


async def on_privacy(ctx: TurnContext, args: list[str] | None = None) -> None:
    """``/privacy`` and the "Privacy notice" button."""
    if args:
        raise StaleButton(":".join(args))
    ctx.reply(privacy_notice(ctx), [[menu_button(ctx)]], kind="privacy")


async def on_forget_command(ctx: TurnContext) -> None:
    _ = ctx.t.gettext
    ctx.reply(
        _(
            "This deletes everything I keep about you: your language, your situation, "
            "your questions and ratings. It can't be undone. Delete?"
        ),
        [
            [Button(_("🗑 Yes, delete"), ids.forget(True))],
            [Button(_("Cancel"), ids.forget(False))],
        ],
        kind="forget",
    )


async def on_forget_button(ctx: TurnContext, args: list[str]) -> None:
    """``fg:yes`` deletes (then says so in the language they used); ``fg:no`` keeps everything."""
    if args == [ids.NO]:
        show_main_menu(ctx, ctx.t.gettext("OK, nothing was deleted."))
        return
    if args != [ids.YES]:
        raise StaleButton(":".join(args))
    done = ctx.t.gettext(
        "Done: I've deleted everything I kept about you. If you write again, we start from scratch."
    )
    await ctx.store.forget_user(ctx.user)
    # Nothing of theirs stays in memory either (in case anything saves the state after us).
    ctx.user.lang = None
    ctx.user.audience = None
    ctx.user.notice_seen = False
    ctx.user.set_context(None)
    ctx.reply(done, kind="forgotten")


#: What a person should not send us unasked: :func:`bot.privacy.sensitive_kinds`' names.
IDENTIFIERS = frozenset({"pesel", "document"})


def warn_if_identifiers(ctx: TurnContext, text: str) -> None:
    """A PESEL or a document number in a question: the answer comes first, then a calm word
    that none is needed (the stored question has it masked already)."""
    if sensitive_kinds(text) & IDENTIFIERS:
        _ = ctx.t.gettext
        ctx.reply(
            _(
                "A small tip: I never need your PESEL or passport number, and it is safer not to "
                "send them in a chat. I have not kept it: I store questions with such numbers "
                "removed."
            ),
            kind="identifiers",
        )
