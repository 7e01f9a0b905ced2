// End-to-end tests start real farms (a coordinator and workers running FFmpeg); on a 2-core
// machine they run one at a time so timings and resources stay predictable.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
