CREATE TABLE "package_index" (
	"source" text NOT NULL,
	"attr" text NOT NULL,
	"pname" text NOT NULL,
	"version" text DEFAULT '' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"search" "tsvector" GENERATED ALWAYS AS (setweight(to_tsvector('simple', coalesce("attr", '') || ' ' || coalesce("pname", '')), 'A') || setweight(to_tsvector('english', coalesce("description", '')), 'B')) STORED NOT NULL,
	CONSTRAINT "package_index_source_attr_pk" PRIMARY KEY("source","attr")
);
--> statement-breakpoint
CREATE TABLE "package_index_sources" (
	"source" text PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"package_count" integer DEFAULT 0 NOT NULL,
	"error" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
DROP INDEX "hosts_org_name_key";--> statement-breakpoint
CREATE INDEX "package_index_search_idx" ON "package_index" USING gin ("search");--> statement-breakpoint
CREATE UNIQUE INDEX "hosts_org_name_key" ON "hosts" USING btree ("org_id","name") WHERE "hosts"."retired_at" is null;