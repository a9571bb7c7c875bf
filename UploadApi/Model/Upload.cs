namespace Reference.UploadApi.Model;

/// <summary>
/// One uploaded original and where it is in the pipeline. The row is the promise behind the
/// 202: it is written before the job is published, and the sweeper re-publishes from it.
/// Status changes go through <see cref="Uploads.UploadTransitions"/> only.
/// </summary>
public sealed class Upload
{
    public Guid Id { get; set; }

    public Guid? ProductId { get; set; }

    public UploadStatus Status { get; set; }

    /// <summary>Why the upload failed, for people.</summary>
    public string? Reason { get; set; }

    /// <summary>How many times <c>ImageUploaded</c> went out for this upload (first publish included).</summary>
    public int Attempts { get; set; }

    /// <summary>How many times a worker started on it. Only these count towards the sweeper's cap: a job no worker took waits.</summary>
    public int Starts { get; set; }

    /// <summary>Lower-case hex SHA-256 of the original's bytes.</summary>
    public required string Sha256 { get; set; }

    /// <summary>Its key in the image store, e.g. <c>originals/{id}.jpg</c>.</summary>
    public required string OriginalKey { get; set; }

    public required string ContentType { get; set; }

    public int Width { get; set; }

    public int Height { get; set; }

    public string? IdempotencyKey { get; set; }

    /// <summary>What the request carried (file hash and product), to tell a retry from a different request under the same key.</summary>
    public string? RequestFingerprint { get; set; }

    public List<UploadVariant> Variants { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>When the sweeper may publish the job again if the upload is still Pending or Processing.</summary>
    public DateTimeOffset NextAttemptAt { get; set; }
}

public enum UploadStatus
{
    Pending,
    Processing,
    Ready,
    Failed,

    /// <summary>Taken off its product: its files are removed and nothing moves it again.</summary>
    Deleted,
}

/// <param name="Key">Under <c>variants/</c> in the image store, e.g. <c>{uploadId}/card.jpg</c>.</param>
public sealed record UploadVariant(string Name, int Width, int Height, string Format, long Bytes, string Key);
