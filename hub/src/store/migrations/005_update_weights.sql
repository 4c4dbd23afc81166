-- Bounded update weights (DESIGN §9 "No single device can dominate an aggregate"). A device declares how many local
-- training examples it holds in its Status; a round snapshots that declaration when it selects the device, and the
-- aggregation weight of the device's update never exceeds it (nor the task's maxExamples, nor a multiple of the
-- round's median). NULL = not declared (agents older than the field): that bound does not apply.
ALTER TABLE devices ADD COLUMN train_examples INTEGER;            -- latest declared in a Status
ALTER TABLE round_participants ADD COLUMN declared_examples INTEGER; -- the device's declaration when it was selected
ALTER TABLE round_participants ADD COLUMN weight INTEGER;           -- weight its update carried in the aggregation
