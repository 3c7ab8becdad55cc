-- What a hotline does while open, beside what it does while closed: JSON like closed_action.
-- Existing hotlines keep their behaviour: the IVR path (the pinned plugin, else the fallback queue).

ALTER TABLE hotlines ADD COLUMN open_action TEXT NOT NULL DEFAULT '{"action":"ivr"}';
