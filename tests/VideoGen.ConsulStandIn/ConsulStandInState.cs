using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VideoGen.ConsulStandIn;

/// <summary>A request the stand-in received, for tests to assert the wire format.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, string Body, string? Token);

/// <summary>A failure Consul would answer with this status and message.</summary>
public sealed class ConsulError(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// The state of one stand-in agent (which here is also the catalog): registered services, their checks with TTL
/// expiry and deregister-critical-after driven by a <see cref="TimeProvider"/>, and a Raft-like index per service
/// that bumps on every change a health query can see, so blocking queries wake on change and only then.
/// Outlives a <see cref="ConsulStandInServer"/>: a test can stop the HTTP server (an outage) and start another on
/// the same state and port (the agent is reachable again and still knows its services).
/// </summary>
public sealed class ConsulStandInState
{
    public const string NodeName = "standin-node";
    public const string Datacenter = "dc1";

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly Dictionary<string, ServiceRecord> _services = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CheckRecord> _checks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ulong> _serviceIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _forced = new(StringComparer.Ordinal);
    private readonly List<RecordedRequest> _requests = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ulong _index = 10;

    public ConsulStandInState(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>Every request received, oldest first.</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Ids of the registered services.</summary>
    public IReadOnlyList<string> ServiceIds
    {
        get
        {
            lock (_gate)
            {
                return [.. _services.Keys.Order(StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>The status of a check, or null when there is no such check.</summary>
    public string? CheckStatus(string checkId)
    {
        lock (_gate)
        {
            return _checks.TryGetValue(checkId, out var check) ? check.Status : null;
        }
    }

    public void Record(RecordedRequest request)
    {
        TaskCompletionSource received;
        lock (_gate)
        {
            _requests.Add(request);
            received = _received;
            _received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        received.TrySetResult();
    }

    /// <summary>The first request (already received or still to come) matching <paramref name="match"/>, waiting at most <paramref name="timeout"/>.</summary>
    public async Task<RecordedRequest> WaitForRequestAsync(Func<RecordedRequest, bool> match, TimeSpan timeout, int skip = 0)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            Task next;
            lock (_gate)
            {
                if (_requests.Where(match).Skip(skip).FirstOrDefault() is { } found)
                {
                    return found;
                }

                next = _received.Task;
            }

            try
            {
                await next.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no matching request within {timeout.TotalSeconds} s; received:\n{string.Join('\n', Requests.Select(r => $"{r.Method} {r.Path}{r.Query}"))}");
            }
        }
    }

    /// <summary><c>PUT /v1/agent/service/register</c>.</summary>
    public void Register(JsonObject body)
    {
        var name = String(body, "Name");
        if (string.IsNullOrEmpty(name))
        {
            throw new ConsulError(400, "Missing service name");
        }

        var id = String(body, "ID") is { Length: > 0 } given ? given : name;
        var definitions = new List<JsonObject>();
        if (body["Check"] is JsonObject single)
        {
            definitions.Add(single);
        }

        if (body["Checks"] is JsonArray many)
        {
            definitions.AddRange(many.OfType<JsonObject>());
        }

        var checks = new List<CheckRecord>();
        for (var i = 0; i < definitions.Count; i++)
        {
            var d = definitions[i];
            var checkId = String(d, "CheckID") is { Length: > 0 } c ? c : definitions.Count == 1 ? $"service:{id}" : $"service:{id}:{i + 1}";
            var ttl = Duration(d, "TTL");
            var grpc = String(d, "GRPC");
            if (ttl is null && string.IsNullOrEmpty(grpc) && String(d, "HTTP") is not { Length: > 0 } && String(d, "TCP") is not { Length: > 0 })
            {
                throw new ConsulError(400, $"Invalid check: TTL, GRPC, HTTP or TCP must be set (check {checkId})");
            }

            if (ttl is null && Duration(d, "Interval") is null)
            {
                throw new ConsulError(400, $"Invalid check: Interval must be set for a GRPC/HTTP/TCP check (check {checkId})");
            }

            var status = String(d, "Status") is { Length: > 0 } s ? s : "critical";
            if (status is not ("passing" or "warning" or "critical"))
            {
                throw new ConsulError(400, $"Invalid check status: {status}");
            }

            checks.Add(new CheckRecord(checkId, String(d, "Name") is { Length: > 0 } n ? n : $"Service '{name}' check", id, name, ttl, Duration(d, "DeregisterCriticalServiceAfter")) { Status = status });
        }

        lock (_gate)
        {
            if (_services.Remove(id, out var previous))
            {
                RemoveChecks(previous);
                Bump(previous.Name);
            }

            var service = new ServiceRecord(id, name, body.DeepClone().AsObject(), [.. checks.Select(c => c.CheckId)]);
            _services[id] = service;
            foreach (var check in checks)
            {
                _checks[check.CheckId] = check;
                if (_forced.TryGetValue(check.CheckId, out var forced))
                {
                    check.Status = forced;
                }

                ArmTtl(check);
                ArmDeregister(check);
            }

            Bump(name);
        }
    }

    /// <summary><c>PUT /v1/agent/service/deregister/{id}</c>.</summary>
    public void Deregister(string serviceId)
    {
        lock (_gate)
        {
            if (!_services.Remove(serviceId, out var service))
            {
                throw new ConsulError(404, $"Unknown service ID \"{serviceId}\". Ensure that the service ID is passed, not the service name.");
            }

            RemoveChecks(service);
            Bump(service.Name);
        }
    }

    /// <summary><c>PUT /v1/agent/check/{pass|warn|fail}/{checkId}</c>.</summary>
    public void UpdateTtl(string checkId, string status, string? note)
    {
        lock (_gate)
        {
            if (!_checks.TryGetValue(checkId, out var check))
            {
                throw new ConsulError(404, $"Unknown check ID \"{checkId}\". Ensure that the check ID is passed, not the check name.");
            }

            if (check.Ttl is null)
            {
                throw new ConsulError(500, $"CheckID \"{checkId}\" does not have associated TTL");
            }

            check.Output = note ?? "";
            ArmTtl(check);
            SetStatus(check, _forced.GetValueOrDefault(checkId, status));
        }
    }

    /// <summary>Test control: pins a check's status (a pass from its owner no longer changes it) until <see cref="Unforce"/>.</summary>
    public void Force(string checkId, string status)
    {
        lock (_gate)
        {
            _forced[checkId] = status;
            if (_checks.TryGetValue(checkId, out var check))
            {
                check.Output = $"forced {status} by the stand-in's admin endpoint";
                SetStatus(check, status);
            }
        }
    }

    /// <summary>Test control: lets the check's owner set its status again.</summary>
    public void Unforce(string checkId)
    {
        lock (_gate)
        {
            _forced.Remove(checkId);
        }
    }

    /// <summary>The index of a service's health result; a service never seen answers the current global index.</summary>
    public ulong IndexOf(string serviceName)
    {
        lock (_gate)
        {
            return _serviceIndex.GetValueOrDefault(serviceName, _index);
        }
    }

    /// <summary>Blocks until the service's index exceeds <paramref name="index"/> or <paramref name="wait"/> passes (on this state's clock).</summary>
    public async Task WaitForChangeAsync(string serviceName, ulong index, TimeSpan wait, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var expired = Task.Delay(wait, _time, timeout.Token);
        try
        {
            while (true)
            {
                Task changed;
                lock (_gate)
                {
                    if (_serviceIndex.GetValueOrDefault(serviceName, 0UL) > index)
                    {
                        return;
                    }

                    changed = _changed.Task;
                }

                if (await Task.WhenAny(changed, expired) == expired)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    return;
                }
            }
        }
        finally
        {
            await timeout.CancelAsync();
        }
    }

    /// <summary><c>GET /v1/health/service/{name}</c>: the entries as Consul returns them, and the index.</summary>
    public (JsonArray Entries, ulong Index) Health(string serviceName, bool passingOnly)
    {
        lock (_gate)
        {
            var entries = new JsonArray();
            foreach (var service in _services.Values.Where(s => s.Name == serviceName).OrderBy(s => s.Id, StringComparer.Ordinal))
            {
                var checks = new JsonArray
                {
                    new JsonObject
                    {
                        ["Node"] = NodeName, ["CheckID"] = "serfHealth", ["Name"] = "Serf Health Status", ["Status"] = "passing",
                        ["Notes"] = "", ["Output"] = "Agent alive and reachable", ["ServiceID"] = "", ["ServiceName"] = "", ["ServiceTags"] = new JsonArray(),
                    },
                };
                var allPassing = true;
                foreach (var check in service.CheckIds.Select(id => _checks[id]))
                {
                    allPassing &= check.Status == "passing";
                    checks.Add(new JsonObject
                    {
                        ["Node"] = NodeName, ["CheckID"] = check.CheckId, ["Name"] = check.Name, ["Status"] = check.Status,
                        ["Notes"] = "", ["Output"] = check.Output, ["ServiceID"] = service.Id, ["ServiceName"] = service.Name,
                        ["ServiceTags"] = service.Body["Tags"]?.DeepClone() ?? new JsonArray(),
                    });
                }

                if (passingOnly && !allPassing)
                {
                    continue;
                }

                entries.Add(new JsonObject
                {
                    ["Node"] = new JsonObject { ["ID"] = "00000000-0000-0000-0000-000000000001", ["Node"] = NodeName, ["Address"] = "127.0.0.1", ["Datacenter"] = Datacenter },
                    ["Service"] = new JsonObject
                    {
                        ["ID"] = service.Id,
                        ["Service"] = service.Name,
                        ["Tags"] = service.Body["Tags"]?.DeepClone() ?? new JsonArray(),
                        ["Address"] = service.Body["Address"]?.DeepClone() ?? "",
                        ["Port"] = service.Body["Port"]?.DeepClone() ?? 0,
                        ["Meta"] = service.Body["Meta"]?.DeepClone() ?? new JsonObject(),
                    },
                    ["Checks"] = checks,
                });
            }

            return (entries, _serviceIndex.GetValueOrDefault(serviceName, _index));
        }
    }

    // ---- under _gate ----

    private void SetStatus(CheckRecord check, string status)
    {
        if (check.Status == status)
        {
            return; // Consul syncs a steady status without a catalog write: no index bump, no wake-up.
        }

        check.Status = status;
        ArmDeregister(check);
        Bump(check.ServiceName);
    }

    private void ArmTtl(CheckRecord check)
    {
        if (check.Ttl is not { } ttl)
        {
            return;
        }

        check.TtlTimer ??= _time.CreateTimer(_ => OnTtlExpired(check), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        check.TtlTimer.Change(ttl, Timeout.InfiniteTimeSpan);
    }

    private void ArmDeregister(CheckRecord check)
    {
        if (check.Status != "critical" || check.DeregisterAfter is not { } after)
        {
            check.DeregisterTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        check.DeregisterTimer ??= _time.CreateTimer(_ => OnCriticalTooLong(check), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        check.DeregisterTimer.Change(after, Timeout.InfiniteTimeSpan);
    }

    private void OnTtlExpired(CheckRecord check)
    {
        lock (_gate)
        {
            if (_checks.TryGetValue(check.CheckId, out var current) && current == check)
            {
                check.Output = $"TTL expired ({check.Ttl!.Value.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s)";
                SetStatus(check, "critical");
            }
        }
    }

    private void OnCriticalTooLong(CheckRecord check)
    {
        lock (_gate)
        {
            if (_checks.TryGetValue(check.CheckId, out var current) && current == check && check.Status == "critical"
                && _services.Remove(check.ServiceId, out var service))
            {
                RemoveChecks(service);
                Bump(service.Name);
            }
        }
    }

    private void RemoveChecks(ServiceRecord service)
    {
        foreach (var id in service.CheckIds)
        {
            if (_checks.Remove(id, out var check))
            {
                check.TtlTimer?.Dispose();
                check.DeregisterTimer?.Dispose();
            }
        }
    }

    private void Bump(string serviceName)
    {
        _serviceIndex[serviceName] = ++_index;
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    private static string? String(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static TimeSpan? Duration(JsonObject o, string key) =>
        String(o, key) is { Length: > 0 } text ? GoDurationParser.Parse(text, key) : null;

    private sealed record ServiceRecord(string Id, string Name, JsonObject Body, List<string> CheckIds);

    private sealed class CheckRecord(string checkId, string name, string serviceId, string serviceName, TimeSpan? ttl, TimeSpan? deregisterAfter)
    {
        public string CheckId { get; } = checkId;
        public string Name { get; } = name;
        public string ServiceId { get; } = serviceId;
        public string ServiceName { get; } = serviceName;
        public TimeSpan? Ttl { get; } = ttl;
        public TimeSpan? DeregisterAfter { get; } = deregisterAfter;
        public string Status { get; set; } = "critical";
        public string Output { get; set; } = "";
        public ITimer? TtlTimer { get; set; }
        public ITimer? DeregisterTimer { get; set; }
    }
}

/// <summary>Go's <c>time.ParseDuration</c> for the units Consul accepts (<c>ns us µs ms s m h</c>, sequences like <c>1m30s</c>).</summary>
public static class GoDurationParser
{
    public static TimeSpan Parse(string text, string key)
    {
        var total = 0.0;
        var i = 0;
        if (text.Length == 0)
        {
            throw new ConsulError(400, $"{key}: empty duration");
        }

        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }

            if (start == i || !double.TryParse(text.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                throw new ConsulError(400, $"{key}: time: invalid duration \"{text}\"");
            }

            var unitStart = i;
            while (i < text.Length && !char.IsDigit(text[i]) && text[i] != '.')
            {
                i++;
            }

            total += text[unitStart..i] switch
            {
                "ns" => number / 1e9,
                "us" or "µs" => number / 1e6,
                "ms" => number / 1e3,
                "s" => number,
                "m" => number * 60,
                "h" => number * 3600,
                "" when number == 0 => 0,
                var unit => throw new ConsulError(400, $"{key}: time: unknown unit \"{unit}\" in duration \"{text}\""),
            };
        }

        return TimeSpan.FromSeconds(total);
    }
}
