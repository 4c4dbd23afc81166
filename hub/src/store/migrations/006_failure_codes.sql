-- Round and campaign failures carry a stable HUB_ERR_* code next to their text, so API clients, events and tests
-- branch on the code, never on the wording. NULL = no failure (or one stored before codes existed and not
-- recognised below).
ALTER TABLE campaigns ADD COLUMN error_code TEXT;
ALTER TABLE rounds ADD COLUMN error_code TEXT;

-- Failures stored before this migration, recognised by the texts the hub wrote then.
UPDATE rounds SET error_code = CASE
    WHEN error = 'cancelled by operator' THEN 'HUB_ERR_ROUND_CANCELLED'
    WHEN error LIKE 'HUB_ERR_CAMPAIGN_UNUSABLE:%' THEN 'HUB_ERR_CAMPAIGN_UNUSABLE'
    WHEN error LIKE 'only % eligible devices, % needed' THEN 'HUB_ERR_ROUND_NO_ELIGIBLE'
    WHEN error LIKE '% valid updates, % needed' THEN 'HUB_ERR_ROUND_TOO_FEW_UPDATES'
    WHEN error LIKE 'selection failed:%' THEN 'HUB_ERR_ROUND_SELECTION_FAILED'
    WHEN error LIKE 'aggregation failed:%' THEN 'HUB_ERR_ROUND_AGGREGATION_FAILED'
  END
  WHERE state = 'failed';
UPDATE campaigns SET error_code = CASE
    WHEN state = 'cancelled' THEN 'HUB_ERR_CAMPAIGN_CANCELLED'
    WHEN error LIKE 'HUB_ERR_CAMPAIGN_UNUSABLE:%' THEN 'HUB_ERR_CAMPAIGN_UNUSABLE'
    ELSE (SELECT r.error_code FROM rounds r WHERE r.campaign_id = campaigns.id AND r.state = 'failed' ORDER BY r.number DESC LIMIT 1)
  END
  WHERE state IN ('failed', 'cancelled');
