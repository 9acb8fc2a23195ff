ALTER TABLE `clusters` ADD `labels` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `integrations` ADD `target_labels` text DEFAULT '{}' NOT NULL;