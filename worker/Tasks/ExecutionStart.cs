namespace VideoGen.Worker.Tasks;

/// <summary>What <see cref="TaskExecutions.StartOrAttach"/> did.</summary>
public enum ExecutionStart
{
    /// <summary>A new execution began in a newly reserved slot.</summary>
    Started,

    /// <summary>The task already had an execution (running, or finished and kept): the stream attached to it.</summary>
    Attached,

    /// <summary>No execution for the task and the worker is draining.</summary>
    Draining,

    /// <summary>No execution for the task and every slot is busy.</summary>
    Full,
}
