"""The database schema (SQLAlchemy Core tables); Alembic migrations create it."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; Accord works in UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Json = JSON().with_variant(JSONB(), "postgresql")
Pk = BigInteger().with_variant(Integer(), "sqlite")
Ts = UTCDateTime()

hub_state = Table(
    "hub_state",
    metadata,
    Column("id", Integer, primary_key=True),
    # The last date_added handed out: strictly increasing, microsecond precision.
    Column("clock", Ts, nullable=False),
)

organisation = Table(
    "organisation",
    metadata,
    Column("pk", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("identity_id", String(100), nullable=False, unique=True),
    Column("sector", String(80), nullable=False),
    Column("country", String(2), nullable=False),
    Column("created_at", Ts, nullable=False),
    # member | partner-hub (a federated hub whose tokens read federation collections only; migration 0004)
    Column("kind", String(16), nullable=False, server_default="member"),
)

app_user = Table(
    "app_user",
    metadata,
    Column("pk", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=True),
    Column("org_pk", Integer, ForeignKey("organisation.pk"), nullable=False, index=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(300), nullable=True),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", Ts, nullable=False),
)

#: Web sessions held server-side (migration 0004): the cookie carries a random id, stored here as its hash.
web_session = Table(
    "web_session",
    metadata,
    Column("pk", Integer, primary_key=True),
    Column("session_hash", String(64), nullable=False, unique=True),
    Column("user_pk", Integer, ForeignKey("app_user.pk", ondelete="CASCADE"), nullable=False, index=True),
    # password | token
    Column("method", String(16), nullable=False),
    # The credential stamp the session was opened with (a changed password or token ends it).
    Column("stamp", String(128), nullable=False),
    Column("created_at", Ts, nullable=False),
    Column("last_seen_at", Ts, nullable=False),
    Column("expires_at", Ts, nullable=False),
    Column("revoked_at", Ts, nullable=True),
    Column("client", String(200), nullable=True),
    Column("user_agent", String(300), nullable=True),
)

api_token = Table(
    "api_token",
    metadata,
    Column("pk", Integer, primary_key=True),
    Column("user_pk", Integer, ForeignKey("app_user.pk"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("label", String(200), nullable=True),
    Column("created_at", Ts, nullable=False),
    Column("expires_at", Ts, nullable=True),
    Column("revoked_at", Ts, nullable=True),
    Column("last_used_at", Ts, nullable=True),
)

sharing_group = Table(
    "sharing_group",
    metadata,
    Column("pk", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("owner_org_pk", Integer, ForeignKey("organisation.pk"), nullable=False, index=True),
    Column("description", Text, nullable=True),
    Column("members_visible", Boolean, nullable=False, default=False),
    Column("created_at", Ts, nullable=False),
)

group_member = Table(
    "group_member",
    metadata,
    Column("group_pk", Integer, ForeignKey("sharing_group.pk", ondelete="CASCADE"), primary_key=True),
    Column("org_pk", Integer, ForeignKey("organisation.pk"), primary_key=True, index=True),
)

#: One row per stored version of a STIX object.
stix_object = Table(
    "stix_object",
    metadata,
    Column("pk", Pk, primary_key=True, autoincrement=True),
    Column("stix_id", String(300), nullable=False),
    Column("type", String(250), nullable=False),
    Column("spec_version", String(8), nullable=False),
    # Sortable form of `modified` (or `created`, or "" for objects that have neither).
    Column("version_key", String(40), nullable=False),
    Column("is_current", Boolean, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("tlp", String(16), nullable=False),
    # The member organisation that first brought this object in (None for hub-seeded objects).
    Column("owner_org_pk", Integer, ForeignKey("organisation.pk"), nullable=True),
    Column("created_by_ref", String(300), nullable=True),
    Column("date_added", Ts, nullable=False),
    Column("name", Text, nullable=True),
    Column("search_text", Text, nullable=True),
    Column("data", Json, nullable=False),
    UniqueConstraint("stix_id", "version_key"),
    UniqueConstraint("date_added"),
    Index("ix_stix_object_current_type_added", "is_current", "type", "date_added"),
    Index("ix_stix_object_current_added", "is_current", "date_added"),
    Index("ix_stix_object_owner", "owner_org_pk"),
    Index("ix_stix_object_id_current", "stix_id", "is_current"),
)

#: Who may see a version: each organisation that brought it in, with the audience it chose.
object_grant = Table(
    "object_grant",
    metadata,
    Column("pk", Pk, primary_key=True, autoincrement=True),
    Column("object_pk", Pk, ForeignKey("stix_object.pk", ondelete="CASCADE"), nullable=False),
    Column("org_pk", Integer, ForeignKey("organisation.pk"), nullable=True),
    # org | group | community | federation | public
    Column("audience", String(16), nullable=False),
    Column("group_pk", Integer, ForeignKey("sharing_group.pk"), nullable=True),
    # Provenance: who sent it, over which path (cli, api, taxii, feed, federation, sweep, demo, system).
    Column("user_pk", Integer, ForeignKey("app_user.pk"), nullable=True),
    Column("via", String(32), nullable=False),
    Column("source", String(300), nullable=True),
    Column("granted_at", Ts, nullable=False),
    Index("ix_object_grant_object", "object_pk", "audience", "org_pk", "group_pk"),
)

#: Objects whose visibility follows others' (relationship source/target, sighting refs).
object_ref = Table(
    "object_ref",
    metadata,
    Column("object_pk", Pk, ForeignKey("stix_object.pk", ondelete="CASCADE"), primary_key=True),
    Column("ref_id", String(300), primary_key=True),
    Index("ix_object_ref_ref", "ref_id"),
)

object_label = Table(
    "object_label",
    metadata,
    Column("object_pk", Pk, ForeignKey("stix_object.pk", ondelete="CASCADE"), primary_key=True),
    Column("label", String(250), primary_key=True),
    Index("ix_object_label_label", "label"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("pk", Pk, primary_key=True, autoincrement=True),
    Column("at", Ts, nullable=False, index=True),
    Column("actor", String(320), nullable=False),
    Column("org_pk", Integer, ForeignKey("organisation.pk"), nullable=True),
    Column("action", String(80), nullable=False),
    Column("target", String(400), nullable=True),
    Column("source", String(200), nullable=True),
    Column("detail", Json, nullable=True),
)

# -- TAXII 2.1 collections and statuses ---------------------------------------------------------

#: TAXII collections: admin-configured views over the one store (never copies of objects).
taxii_collection = Table(
    "taxii_collection",
    metadata,
    Column("pk", Integer, primary_key=True),
    # The TAXII identifier (a UUID4), used in URLs.
    Column("id", String(36), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=True),
    # all | org | group | public
    Column("scope", String(16), nullable=False),
    Column("group_pk", Integer, ForeignKey("sharing_group.pk"), nullable=True),
    # True: every signed-in organisation may read (and, for a public scope, anyone).
    Column("readers_all", Boolean, nullable=False),
    # none | all | list (the organisations in taxii_collection_org with right 'write')
    Column("writers", String(8), nullable=False),
    # The audience objects written through this collection get (None: the core's default for their TLP).
    Column("write_audience", String(220), nullable=True),
    Column("created_at", Ts, nullable=False),
    # scope feed: the feed whose imports the collection shows (added by migration 0003).
    Column("feed_name", String(64), nullable=True),
)

#: Organisations named as readers or writers of a collection.
taxii_collection_org = Table(
    "taxii_collection_org",
    metadata,
    Column("collection_pk", Integer, ForeignKey("taxii_collection.pk", ondelete="CASCADE"), primary_key=True),
    Column("org_pk", Integer, ForeignKey("organisation.pk"), primary_key=True),
    # read | write
    Column("access", String(8), primary_key=True),
)

#: TAXII status resources: one per POST to a collection's objects; they outlive the process.
taxii_status = Table(
    "taxii_status",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("collection_id", String(36), nullable=False),
    Column("org_pk", Integer, ForeignKey("organisation.pk"), nullable=True),
    Column("user_pk", Integer, ForeignKey("app_user.pk"), nullable=True),
    # pending | complete
    Column("status", String(10), nullable=False),
    Column("request_timestamp", Ts, nullable=False),
    Column("updated_at", Ts, nullable=False),
    # host:pid:token of the process working on a pending status (to detect work lost to a restart).
    Column("worker", String(200), nullable=True),
    Column("total_count", Integer, nullable=False),
    Column("success_count", Integer, nullable=False),
    Column("failure_count", Integer, nullable=False),
    Column("pending_count", Integer, nullable=False),
    Column("successes", Json, nullable=True),
    Column("failures", Json, nullable=True),
    # The objects not processed yet: [{"id", "version"}] while pending.
    Column("pendings", Json, nullable=True),
    Index("ix_taxii_status_org", "org_pk"),
)

# -- federation: feeds pulled from partner hubs, TAXII servers and MISP feeds ---------------------

#: A feed: where to pull from, as whom, with what audience, how often, and how far it got.
federation_feed = Table(
    "federation_feed",
    metadata,
    Column("pk", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    # taxii | misp
    Column("kind", String(8), nullable=False),
    # A TAXII discovery, API root or collection URL; or a MISP feed's base URL (manifest.json under it).
    Column("url", Text, nullable=False),
    Column("collection_id", String(200), nullable=True),
    # none | bearer | basic. The secret (a token or password) is stored in the hub's database.
    Column("auth", String(8), nullable=False),
    Column("username", String(320), nullable=True),
    Column("secret", Text, nullable=True),
    # The member organisation imports are published as (None: the operator, objects keep their creator).
    Column("org_pk", Integer, ForeignKey("organisation.pk"), nullable=True),
    Column("audience", String(220), nullable=True),
    Column("interval_seconds", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", Ts, nullable=False),
    # TAXII: the X-TAXII-Date-Added-Last of the last page stored (the next pull's added_after).
    Column("checkpoint", String(64), nullable=True),
    # Health.
    Column("last_attempt_at", Ts, nullable=True),
    Column("last_success_at", Ts, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_error_at", Ts, nullable=True),
    Column("failures", Integer, nullable=False),
    Column("next_attempt_at", Ts, nullable=True),
    Column("objects_pulled", BigInteger, nullable=False),
    Column("last_pull_objects", Integer, nullable=True),
    # Who is pulling it now (host:pid:token) and until when: one puller per feed across processes.
    Column("lease_owner", String(200), nullable=True),
    Column("lease_until", Ts, nullable=True),
)

#: MISP feed checkpoints: the timestamp of each event last stored, per feed.
federation_feed_event = Table(
    "federation_feed_event",
    metadata,
    Column("feed_pk", Integer, ForeignKey("federation_feed.pk", ondelete="CASCADE"), primary_key=True),
    Column("event_uuid", String(64), primary_key=True),
    Column("event_timestamp", BigInteger, nullable=False),
    Column("pulled_at", Ts, nullable=False),
    # SHA-256 of the event file last stored (an unchanged event is not stored again).
    Column("content_digest", String(64), nullable=True),
)
