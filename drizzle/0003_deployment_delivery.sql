ALTER TABLE "deployment_targets" ADD COLUMN "released_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deployment_targets" ADD COLUMN "confirmed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deployment_targets" ADD COLUMN "log" text DEFAULT '' NOT NULL;