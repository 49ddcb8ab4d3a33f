CREATE TYPE "public"."alert_kind" AS ENUM('host-offline', 'deployment-failed', 'disk-low', 'units-failed');--> statement-breakpoint
CREATE TABLE "alert_firings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"rule_id" uuid NOT NULL,
	"subject" text NOT NULL,
	"host_id" uuid,
	"summary" text NOT NULL,
	"fired_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "alert_rules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"name" text NOT NULL,
	"kind" "alert_kind" NOT NULL,
	"threshold" integer DEFAULT 0 NOT NULL,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "closure_packages" (
	"build_id" uuid NOT NULL,
	"pname" text NOT NULL,
	"version" text NOT NULL,
	"store_path" text NOT NULL,
	CONSTRAINT "closure_packages_build_id_store_path_pk" PRIMARY KEY("build_id","store_path")
);
--> statement-breakpoint
CREATE TABLE "fleet_samples" (
	"org_id" uuid NOT NULL,
	"resolution" "metric_resolution" DEFAULT 'raw' NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"total" integer NOT NULL,
	"online" integer NOT NULL,
	"drifted" integer NOT NULL,
	"failed" integer NOT NULL,
	"needs_reboot" integer NOT NULL,
	"low_disk" integer NOT NULL,
	CONSTRAINT "fleet_samples_org_id_resolution_at_pk" PRIMARY KEY("org_id","resolution","at")
);
--> statement-breakpoint
CREATE TABLE "rollup_marks" (
	"name" text PRIMARY KEY NOT NULL,
	"up_to" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "saved_filters" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"name" text NOT NULL,
	"query" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "nixpkgs_date" date;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "last_deploy_phase" text;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "last_deploy_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "alert_firings" ADD CONSTRAINT "alert_firings_rule_id_alert_rules_id_fk" FOREIGN KEY ("rule_id") REFERENCES "public"."alert_rules"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_firings" ADD CONSTRAINT "alert_firings_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_rules" ADD CONSTRAINT "alert_rules_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_rules" ADD CONSTRAINT "alert_rules_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "closure_packages" ADD CONSTRAINT "closure_packages_build_id_builds_id_fk" FOREIGN KEY ("build_id") REFERENCES "public"."builds"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fleet_samples" ADD CONSTRAINT "fleet_samples_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "saved_filters" ADD CONSTRAINT "saved_filters_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "saved_filters" ADD CONSTRAINT "saved_filters_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "alert_firings_open_key" ON "alert_firings" USING btree ("rule_id","subject") WHERE "alert_firings"."resolved_at" is null;--> statement-breakpoint
CREATE INDEX "alert_firings_rule_idx" ON "alert_firings" USING btree ("rule_id","fired_at");--> statement-breakpoint
CREATE INDEX "alert_rules_org_idx" ON "alert_rules" USING btree ("org_id");--> statement-breakpoint
CREATE INDEX "closure_packages_pname_idx" ON "closure_packages" USING btree ("pname","version");--> statement-breakpoint
CREATE UNIQUE INDEX "saved_filters_user_name_key" ON "saved_filters" USING btree ("org_id","user_id","name");--> statement-breakpoint
CREATE INDEX "builds_store_path_idx" ON "builds" USING btree ("org_id","store_path");--> statement-breakpoint
-- Backfill: the closures of builds made before this migration, as package names and versions
-- (split at the first dash before a digit, as Nix does).
INSERT INTO "closure_packages" ("build_id", "pname", "version", "store_path")
SELECT bp."build_id", m[1], m[2], bp."store_path"
FROM "build_paths" bp, regexp_match(substr(bp."store_path", 45), '^(.+?)-([0-9][^-]*(-.+)?)$') AS m
WHERE m IS NOT NULL
ON CONFLICT DO NOTHING;--> statement-breakpoint
-- Backfill: each host's newest finished deployment outcome.
UPDATE "hosts" h SET "last_deploy_phase" = t."phase", "last_deploy_at" = t."finished_at"
FROM (
  SELECT DISTINCT ON ("host_id") "host_id", "phase"::text AS "phase", "finished_at"
  FROM "deployment_targets"
  WHERE "finished_at" IS NOT NULL AND "phase" IN ('succeeded', 'failed', 'rolled-back')
  ORDER BY "host_id", "finished_at" DESC
) t
WHERE t."host_id" = h."id";
