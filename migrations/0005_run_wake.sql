ALTER TABLE `runs` ADD `next_wake_at` text;--> statement-breakpoint
CREATE INDEX `runs_next_wake` ON `runs` (`next_wake_at`,`id`) WHERE next_wake_at IS NOT NULL;