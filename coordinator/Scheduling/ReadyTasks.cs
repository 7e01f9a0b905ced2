using System.Collections;

namespace VideoGen.Coordinator.Scheduling;

/// <summary>
/// The ready tasks, each tenant's kept in placement order: higher priority first, then the older job, then the
/// earlier task (the order <see cref="PlacementPolicy"/> places in). A dispatch pass reads each tenant's best few
/// (<see cref="BestFirst"/>) and stops, so its cost follows the free slots, not the ready set: with 120 jobs × 142
/// ready tasks, every pass scanned all 17,000 of them (issue 17, item 5). A task's place is fixed when it is added
/// (its priority, job order and task order never change while it is ready). Owned by the loop; not thread-safe.
/// </summary>
internal sealed class ReadyTasks : IReadOnlyCollection<TaskRef>
{
    private readonly Dictionary<TaskRef, Entry> _entries = [];
    private readonly Dictionary<string, SortedSet<Entry>> _byTenant = new(StringComparer.Ordinal);
    private long _added;

    public ReadyTasks()
    {
    }

    public ReadyTasks(IEnumerable<TaskRef> tasks)
    {
        foreach (var task in tasks)
        {
            Add(task);
        }
    }

    public int Count => _entries.Count;

    /// <summary>Tenants with ready tasks.</summary>
    public IEnumerable<string> Tenants => _byTenant.Keys;

    /// <summary>Adds the task; false when it is ready already.</summary>
    public bool Add(TaskRef task)
    {
        var request = task.Job.Job.Request;
        var entry = new Entry(request.Priority, task.Job.Order, task.Job.TaskOrder.GetValueOrDefault(task.Task.TaskId), _added++, task);
        if (!_entries.TryAdd(task, entry))
        {
            return false;
        }

        if (!_byTenant.TryGetValue(request.Tenant, out var tenant))
        {
            _byTenant[request.Tenant] = tenant = new SortedSet<Entry>(PlacementOrder.Instance);
        }

        tenant.Add(entry);
        return true;
    }

    /// <summary>Removes the task; false when it was not ready.</summary>
    public bool Remove(TaskRef task)
    {
        if (!_entries.Remove(task, out var entry))
        {
            return false;
        }

        var tenant = task.Job.Job.Request.Tenant;
        var set = _byTenant[tenant];
        set.Remove(entry);
        if (set.Count == 0)
        {
            _byTenant.Remove(tenant);
        }

        return true;
    }

    public bool Contains(TaskRef task) => _entries.ContainsKey(task);

    /// <summary>The tenant's ready tasks, best placed first.</summary>
    public IEnumerable<TaskRef> BestFirst(string tenant)
    {
        if (!_byTenant.TryGetValue(tenant, out var set))
        {
            yield break;
        }

        foreach (var entry in set)
        {
            yield return entry.Task;
        }
    }

    /// <summary>Every ready task (tenant by tenant, each best first). Not while adding or removing.</summary>
    public IEnumerator<TaskRef> GetEnumerator() => _byTenant.Keys.SelectMany(BestFirst).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <remarks><paramref name="Added"/>: a tiebreak, so that two tasks never compare equal.</remarks>
    private readonly record struct Entry(int Priority, long JobOrder, int TaskOrder, long Added, TaskRef Task);

    private sealed class PlacementOrder : IComparer<Entry>
    {
        public static readonly PlacementOrder Instance = new();

        public int Compare(Entry x, Entry y) =>
            x.Priority != y.Priority ? y.Priority.CompareTo(x.Priority)
            : x.JobOrder != y.JobOrder ? x.JobOrder.CompareTo(y.JobOrder)
            : x.TaskOrder != y.TaskOrder ? x.TaskOrder.CompareTo(y.TaskOrder)
            : x.Added.CompareTo(y.Added);
    }
}
