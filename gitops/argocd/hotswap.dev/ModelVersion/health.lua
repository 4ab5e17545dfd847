-- Argo CD health of a hotswap.dev ModelVersion (Lua 5.1, as Argo CD's gopher-lua runs it).
-- Healthy: the files on the model volume match spec.digest (Verified). Degraded: they do not,
-- or are missing or corrupt. Progressing: not verified yet, or the operator has not seen the
-- latest generation.
local hs = {}

local function find_condition(status, kind)
  if status.conditions == nil then
    return nil
  end
  for _, condition in ipairs(status.conditions) do
    if condition.type == kind then
      return condition
    end
  end
  return nil
end

local function describe(condition)
  if condition.message ~= nil and condition.message ~= "" then
    return (condition.reason or condition.type) .. ": " .. condition.message
  end
  return condition.reason or condition.type
end

local status = obj.status
if status == nil or status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to verify this version"
  return hs
end

local generation = obj.metadata.generation
local verified = find_condition(status, "Verified")
local stale = generation ~= nil and (status.observedGeneration == nil
  or status.observedGeneration < generation
  or (verified ~= nil and verified.observedGeneration ~= nil
    and verified.observedGeneration < generation))
if stale then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. generation
  return hs
end

if verified == nil or verified.status == "Unknown" then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to verify this version"
  return hs
end

if verified.status == "False" then
  hs.status = "Degraded"
  hs.message = describe(verified)
  return hs
end

hs.status = "Healthy"
local serving = status.serving or "None"
hs.message = describe(verified) .. " (serving: " .. serving .. ")"
return hs
