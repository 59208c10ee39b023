"""The application's use cases, assembled once and handed to every chat channel.

A channel (handlers/ for Telegram) identifies the person, then calls these; it never
reaches storage itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot import texts
from bot.casework.access import Access
from bot.casework.chat_desk import ChatDesk
from bot.casework.chat_moves import ChatMoves
from bot.casework.chat_replies import ChatReplies
from bot.casework.dispatch import Dispatcher
from bot.casework.rider_chat import RiderChat
from bot.casework.service import Casework
from bot.casework.sweep import Sweep
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.delivery.outbox import TELEGRAM, Outbox
from bot.delivery.steps import DeliverySteps
from bot.delivery.worker import Backoff, DeliveryWorker
from bot.domain.routing import Area, Router
from bot.intake.limits import RiderLimits
from bot.intake.my_reports import MyReports
from bot.intake.registration import Registration
from bot.intake.stepwise import Intake
from bot.intake.tickets import Tickets
from bot.messages import Button, Outcome, Reply, say
from bot.people.linking import Linking
from bot.people.riders import RiderCtx, identify
from bot.people.sessions import StaffSessions
from bot.people.signin import StaffLinks
from bot.people.signin_step import KIND as SIGNIN_KIND
from bot.people.signin_step import SigninStep
from bot.people.staff import StaffDirectory
from bot.ports import Courier, MemberLookup
from bot.reporting.digest import Digests
from bot.reporting.ledger import Ledger
from bot.reporting.stats import Stats
from storage.database import Database
from storage.db import create_engine, migrate
from storage.photos import PhotoStore


def build_router(config: Config) -> Router:
    return Router(
        [Area(c.id, c.boundary, c.centre, c.radius_m, c.categories) for c in config.communities]
    )


@dataclass
class Services:
    config: Config
    db: Database
    photos: PhotoStore
    router: Router
    clock: Clock
    courier: Courier | None  # Telegram's, when it runs (the ledger file goes through it)
    outbox: Outbox
    delivery: DeliveryWorker
    dispatcher: Dispatcher
    access: Access
    intake: Intake
    registration: Registration
    casework: Casework
    staff: StaffDirectory
    desk: ChatDesk
    desk_replies: ChatReplies
    rider_chat: RiderChat
    sweep: Sweep
    my_reports: MyReports
    stats: Stats
    digests: Digests
    ledger: Ledger
    limits: RiderLimits
    chat_moves: ChatMoves
    tickets: Tickets
    linking: Linking
    staff_links: StaffLinks  # the console's one-time links (invites, /web)
    staff_sessions: StaffSessions  # who is signed in to the console
    signin: SigninStep  # /web: a sign-in link in a private message

    @classmethod
    def create(
        cls,
        config: Config,
        couriers: Mapping[str, Courier],
        clock: Clock | None = None,
        *,
        members: MemberLookup,
        backoff: Backoff | None = None,
    ) -> Services:
        """Wire the use cases; nothing touches the disk or network until `start`.

        `couriers`: how each channel delivers ("telegram", "web"); every message is put in
        the outbox first, and the worker hands it to its channel's courier. A channel with
        none (Telegram with no token) keeps its messages until a start that has one.
        """
        clock = clock or SystemClock()
        db = Database(create_engine(config.database_url))
        outbox = Outbox(clock=clock)
        photos = PhotoStore(config.photo_dir, max_bytes=config.max_photo_bytes)
        router = build_router(config)
        moves = ChatMoves(db=db, clock=clock)
        dispatcher = Dispatcher(
            config=config, db=db, photos=photos, outbox=outbox, clock=clock, moves=moves
        )
        access = Access(db=db, clock=clock, members=members)
        staff = StaffDirectory(db=db, clock=clock)
        casework = Casework(
            config=config,
            db=db,
            photos=photos,
            outbox=outbox,
            clock=clock,
            dispatcher=dispatcher,
            access=access,
        )
        desk = ChatDesk(casework, staff)
        tickets = Tickets(config=config, outbox=outbox)
        steps = DeliverySteps(
            config=config,
            db=db,
            clock=clock,
            outbox=outbox,
            cards=dispatcher,
            tickets=tickets,
        )
        staff_links = StaffLinks(config=config, db=db, clock=clock, staff=staff)
        signin = SigninStep(config=config, db=db, outbox=outbox, staff=staff, links=staff_links)
        delivery = DeliveryWorker(
            db=db,
            couriers=couriers,
            steps={**steps.for_worker(), SIGNIN_KIND: signin},
            backoff=backoff,
            # SQLite takes one writer: one worker, which owns every claim it finds.
            sole=db.engine.dialect.name == "sqlite",
        )
        outbox.on_put(delivery.wake)
        intake = Intake(
            config=config,
            db=db,
            photos=photos,
            router=router,
            dispatcher=dispatcher,
            tickets=tickets,
            clock=clock,
        )
        return cls(
            config=config,
            db=db,
            photos=photos,
            router=router,
            clock=clock,
            courier=couriers.get(TELEGRAM),
            outbox=outbox,
            delivery=delivery,
            dispatcher=dispatcher,
            access=access,
            intake=intake,
            registration=Registration(db=db, clock=clock),
            casework=casework,
            staff=staff,
            desk=desk,
            desk_replies=ChatReplies(desk),
            rider_chat=RiderChat(casework),
            sweep=Sweep(casework),
            tickets=tickets,
            my_reports=MyReports(config=config, db=db),
            stats=Stats(config=config, db=db),
            digests=Digests(config=config, db=db, outbox=outbox, clock=clock),
            ledger=Ledger(config=config, db=db, courier=couriers.get(TELEGRAM), clock=clock),
            limits=RiderLimits(
                config.limits.messages_per_minute, config.limits.reports_per_hour, clock
            ),
            chat_moves=moves,
            linking=Linking(config=config, db=db, clock=clock, dispatcher=dispatcher),
            staff_links=staff_links,
            staff_sessions=StaffSessions(db=db, clock=clock, staff=staff),
            signin=signin,
        )

    async def start(self) -> None:
        await migrate(self.db.engine)
        await self.chat_moves.load()

    async def stop(self) -> None:
        await self.delivery.stop()
        await self.db.close()

    async def rider(
        self, channel: str, external_id: str, name: str, language_code: str | None
    ) -> RiderCtx:
        """The rider behind the account writing now (made at their first contact); one the
        bot could not reach is reachable again."""
        ctx = await identify(
            self.db,
            self.clock,
            channel=channel,
            external_id=external_id,
            name=name,
            language_code=language_code,
            default_language=self.config.language,
        )
        if ctx.rider.unreachable_at is not None:
            rider = await self.casework.rider_is_back(ctx.rider)
            ctx = RiderCtx(rider, ctx.lang, ctx.account)
        return ctx

    async def text(self, ctx: RiderCtx, text: str) -> Outcome:
        """Plain text from a rider means what the conversation is waiting for."""
        awaiting = ctx.rider.awaiting
        if awaiting == "display_name":
            return await self.registration.set_name(ctx, text)
        if awaiting == "phone" and text.strip() == texts.t(ctx.lang, "button.skip"):
            return await self.registration.set_phone(ctx, None)
        # Anything else is the rider's note: words are never thrown away.
        return await self.intake.add_note(ctx, text, replace=awaiting == "note")

    async def digest_for(self, chat_id: int, topic_id: int | None = None) -> Outcome:
        """/digest: the chat's own digest of the last complete week, with the chart."""
        found = await self.digests.for_chat(chat_id, topic_id)
        if not found:
            return say(texts.t(self.config.language, "digest.none_here"))
        digest = found[0]
        replies = [Reply(digest.text)]
        if digest.chart:
            replies.append(
                Reply(texts.t(self.config.language, "chart.caption"), photo=digest.chart)
            )
        return Outcome(replies=tuple(replies))

    def help(self, lang: str) -> Outcome:
        cats = "\n".join(f"{c.icon} {c.name(lang)}" for c in self.config.categories)
        return say(texts.t(lang, "help", categories=cats))

    def chat_ids(self, chat_id: int, topic_id: int | None, title: str) -> Outcome:
        """What to paste into the configuration for this group (and topic)."""
        lang = self.config.language
        topic = texts.t(lang, "group.topic_line", topic_id=topic_id) if topic_id else ""
        return Outcome(
            replies=(
                Reply(
                    texts.t(
                        lang,
                        "group.chat_id",
                        title=title,
                        chat_id=chat_id,
                        topic=texts.Html(topic),
                    )
                ),
            )
        )

    def private_only(self, lang: str, bot_username: str) -> Outcome:
        """In a group: point the rider to the private chat where reports are made."""
        url = f"https://t.me/{bot_username}?start=report"
        return Outcome(
            replies=(
                Reply(
                    texts.t(lang, "group.private_only"),
                    ((Button(texts.t(lang, "button.open_private"), url=url),),),
                ),
            )
        )
