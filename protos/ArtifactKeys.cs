namespace VideoGen.Contracts;

/// <summary>
/// The one key scheme for every artifact of a job, used by the coordinator when it names
/// a task's outputs and by every storage backend (local folder, S3). Keeping it in one
/// place is what keeps "the final video is a 404" from happening again.
/// </summary>
public static class ArtifactKeys
{
    public static string Storyboard(string jobId, int beatIndex) => $"jobs/{jobId}/storyboard/{beatIndex}.png";

    public static string Chunk(string jobId, int chunkIndex) => $"jobs/{jobId}/chunks/{chunkIndex}.mp4";

    public static string LastFrame(string jobId, int chunkIndex) => $"jobs/{jobId}/chunks/{chunkIndex}.last.png";

    public static string Final(string jobId) => $"jobs/{jobId}/final.mp4";
}
