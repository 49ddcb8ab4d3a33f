ALTER TABLE "builds" ADD COLUMN "worker_host" text;--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "worker_boot_id" text;--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "worker_pid" integer;--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "worker_start" bigint;--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "nix_pgid" integer;--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "nix_start" bigint;