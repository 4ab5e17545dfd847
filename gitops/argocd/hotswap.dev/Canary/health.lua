-- Argo CD health of a hotswap.dev Canary (Lua 5.1, as Argo CD's gopher-lua runs it).
-- Healthy: spec.version serves as stable on every ready pod. Progressing: a rollout runs, a
-- timed pause waits, the operator has not seen the latest spec, or the pods have not converged.
-- Suspended: a pause that waits for `kubectl hotswap promote`. Degraded: the rollout was
-- aborted (traffic is back on stable) until spec.version changes.
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

local function is_stale(status, condition)
  local generation = obj.metadata.generation
  if generation == nil then
    return false
  end
  if status.observedGeneration == nil or status.observedGeneration < generation then
    return true
  end
  return condition ~= nil and condition.observedGeneration ~= nil
    and condition.observedGeneration < generation
end

-- A manual pause: the running step is a pause without durationSeconds.
local function waits_for_promotion(status, progressing)
  if progressing.reason == "PausedForPromotion" then
    return true
  end
  if progressing.reason ~= "Paused" or status.currentStep == nil then
    return false
  end
  local strategy = obj.spec.strategy
  if strategy == nil or strategy.steps == nil then
    return false
  end
  local step = strategy.steps[status.currentStep + 1]
  return step ~= nil and step.pause ~= nil and step.pause.durationSeconds == nil
end

local status = obj.status
if status == nil or status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report on this Canary"
  return hs
end

local ready = find_condition(status, "Ready")
if is_stale(status, ready) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. obj.metadata.generation
  return hs
end

local degraded = find_condition(status, "Degraded")
if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(degraded)
  return hs
end

local progressing = find_condition(status, "Progressing")
if progressing ~= nil and progressing.status == "True" and waits_for_promotion(status, progressing) then
  hs.status = "Suspended"
  hs.message = describe(progressing)
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end

hs.status = "Progressing"
if progressing ~= nil and progressing.reason ~= nil then
  hs.message = describe(progressing)
elseif ready ~= nil and ready.reason ~= nil then
  hs.message = describe(ready)
else
  hs.message = "Waiting for the rollout to converge"
end
return hs
