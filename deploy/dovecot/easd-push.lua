-- easd push events: tells easd which mailboxes of which user changed, so
-- that waiting phones (ActiveSync Ping) wake without an IMAP IDLE
-- connection, and so without a Dovecot process, per waiting user.
--
-- Dovecot's push-notification plugin calls these functions after each
-- mailbox transaction, in the process that made it (imap, lmtp, lda). One
-- POST per transaction lists the mailboxes that changed and how (no
-- message data); easd wakes the phones watching them, which then sync.
--
-- Settings (plugin block):
--   push_notification_driver = lua:file=/etc/dovecot/easd-push.lua
--   easd_push_url    = http://easd:8080/push-events/dovecot
--   easd_push_secret = the value of easd's --push-secret
--
-- The POST waits for easd's answer, at most request_timeout below: a
-- transaction's IMAP reply is delayed by that much when easd does not
-- answer. An event easd does not get is found by its periodic STATUS sweep
-- (--push-sweep-interval).

local client = nil

function script_init()
  client = dovecot.http.client({
    request_timeout_msecs = 1000,
    request_absolute_timeout_msecs = 1500,
    max_attempts = 1,
    max_connect_attempts = 1,
    -- Each Dovecot process has its own client: an idle connection is kept
    -- only briefly, so easd sees about as many connections as processes
    -- changing mail at the moment, not one per process ever started.
    max_idle_time_msecs = 2000,
    user_agent = "dovecot-easd-push/1",
  })
  return 0
end

function dovecot_lua_notify_begin_txn(user)
  return {
    user = user.username,
    url = user:plugin_getenv("easd_push_url"),
    secret = user:plugin_getenv("easd_push_secret"),
    seen = {},
    events = {},
  }
end

-- add records one change, once per transaction for each event and mailbox.
local function add(ctx, name, mailbox, old)
  local key = name .. "\0" .. (mailbox or "")
  if ctx.seen[key] then
    return
  end
  ctx.seen[key] = true
  table.insert(ctx.events, {name = name, mailbox = mailbox or "", old = old})
end

local function json_string(s)
  s = string.gsub(s, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end

function dovecot_lua_notify_end_txn(ctx, success)
  if success == false or #ctx.events == 0 then
    return
  end
  if ctx.url == nil or ctx.url == "" then
    dovecot.i_warning("easd-push: easd_push_url is not set, events dropped")
    return
  end
  local parts = {}
  for _, ev in ipairs(ctx.events) do
    local item = '{"event":' .. json_string(ev.name) .. ',"mailbox":' .. json_string(ev.mailbox)
    if ev.old ~= nil then
      item = item .. ',"old":' .. json_string(ev.old)
    end
    table.insert(parts, item .. "}")
  end
  local body = '{"user":' .. json_string(ctx.user) .. ',"events":[' .. table.concat(parts, ",") .. "]}"
  local rq = client:request({url = ctx.url, method = "POST"})
  rq:add_header("Content-Type", "application/json")
  rq:add_header("Authorization", "Bearer " .. (ctx.secret or ""))
  rq:set_payload(body)
  local resp = rq:submit()
  local status = resp:status()
  if status < 200 or status > 299 then
    dovecot.i_warning("easd-push: " .. ctx.url .. " answered " .. tostring(status) .. " " ..
      tostring(resp:reason()) .. " for user " .. ctx.user)
  end
end

-- The push-notification Lua driver calls dovecot_lua_notify_event_<name>
-- for each event; every one but a rename only names its mailbox.
for name, event in pairs({
  message_new = "MessageNew", message_append = "MessageAppend",
  message_expunge = "MessageExpunge", message_read = "MessageRead",
  message_trash = "MessageTrash", flags_set = "FlagsSet", flags_clear = "FlagsClear",
  mailbox_create = "MailboxCreate", mailbox_delete = "MailboxDelete",
}) do
  _G["dovecot_lua_notify_event_" .. name] = function(ctx, e)
    add(ctx, event, e.mailbox)
  end
end

function dovecot_lua_notify_event_mailbox_rename(ctx, event)
  add(ctx, "MailboxRename", event.mailbox, event.mailbox_old)
end
