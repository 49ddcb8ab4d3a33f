CREATE TABLE "build_paths" (
	"build_id" uuid NOT NULL,
	"store_hash" text NOT NULL,
	"store_path" text NOT NULL,
	"nar_size" bigint NOT NULL,
	CONSTRAINT "build_paths_build_id_store_hash_pk" PRIMARY KEY("build_id","store_hash")
);
--> statement-breakpoint
CREATE TABLE "cache_objects" (
	"org_id" uuid NOT NULL,
	"store_hash" text NOT NULL,
	"store_path" text NOT NULL,
	"nar_url" text NOT NULL,
	"file_size" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cache_objects_org_id_store_hash_pk" PRIMARY KEY("org_id","store_hash")
);
--> statement-breakpoint
DROP INDEX "builds_input_hash_idx";--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "worker_id" text;--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "heartbeat_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "pruned_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "fleet_settings" ADD COLUMN "cache_key_name" text;--> statement-breakpoint
ALTER TABLE "fleet_settings" ADD COLUMN "cache_public_key" text;--> statement-breakpoint
ALTER TABLE "fleet_settings" ADD COLUMN "cache_secret_key_enc" text;--> statement-breakpoint
ALTER TABLE "fleet_settings" ADD COLUMN "build_retention_days" integer DEFAULT 30 NOT NULL;--> statement-breakpoint
ALTER TABLE "build_paths" ADD CONSTRAINT "build_paths_build_id_builds_id_fk" FOREIGN KEY ("build_id") REFERENCES "public"."builds"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cache_objects" ADD CONSTRAINT "cache_objects_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "build_paths_hash_idx" ON "build_paths" USING btree ("store_hash");--> statement-breakpoint
CREATE INDEX "cache_objects_nar_idx" ON "cache_objects" USING btree ("org_id","nar_url");--> statement-breakpoint
CREATE UNIQUE INDEX "builds_host_inputs_live_key" ON "builds" USING btree ("host_id","input_hash") WHERE "builds"."status" in ('queued', 'running', 'succeeded') and "builds"."pruned_at" is null;