CREATE TYPE "public"."restore_status" AS ENUM('pending', 'sent', 'running', 'succeeded', 'failed');--> statement-breakpoint
CREATE TABLE "snapshot_restores" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"host_id" uuid NOT NULL,
	"snapshot_id" uuid NOT NULL,
	"unit" text NOT NULL,
	"status" "restore_status" DEFAULT 'pending' NOT NULL,
	"message" text DEFAULT '' NOT NULL,
	"requested_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "state_snapshots" (
	"id" uuid NOT NULL,
	"org_id" uuid NOT NULL,
	"host_id" uuid NOT NULL,
	"unit" text NOT NULL,
	"kind" text NOT NULL,
	"hash" text NOT NULL,
	"size" bigint NOT NULL,
	"generation" text,
	"reason" text NOT NULL,
	"deployment_id" uuid,
	"target_id" uuid,
	"taken_at" timestamp with time zone NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "state_snapshots_host_id_id_pk" PRIMARY KEY("host_id","id")
);
--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "state_units" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "snapshot_restores" ADD CONSTRAINT "snapshot_restores_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "snapshot_restores" ADD CONSTRAINT "snapshot_restores_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "snapshot_restores" ADD CONSTRAINT "snapshot_restores_requested_by_users_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "state_snapshots" ADD CONSTRAINT "state_snapshots_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "state_snapshots" ADD CONSTRAINT "state_snapshots_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "state_snapshots" ADD CONSTRAINT "state_snapshots_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "snapshot_restores_host_idx" ON "snapshot_restores" USING btree ("host_id","created_at");--> statement-breakpoint
CREATE INDEX "state_snapshots_host_idx" ON "state_snapshots" USING btree ("host_id","taken_at");