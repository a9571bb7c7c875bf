using Reference.UploadApi.Model;

namespace Reference.UploadApi.Intake;

/// <summary>What became of an upload: accepted (a new or an earlier, replayed row) or refused.</summary>
public sealed record IntakeOutcome(Upload? Accepted, UploadRefusal? Refusal)
{
    public static implicit operator IntakeOutcome(Upload upload) => new(upload, null);

    public static implicit operator IntakeOutcome(UploadRefusal refusal) => new(null, refusal);
}

/// <summary>Why an upload was refused, as the status and detail of its problem response.</summary>
public sealed record UploadRefusal(int Status, string Detail, int? RetryAfterSeconds = null)
{
    public static UploadRefusal BadRequest(string detail) => new(StatusCodes.Status400BadRequest, detail);

    public static UploadRefusal TooLarge(UploadOptions limits) =>
        new(StatusCodes.Status413PayloadTooLarge, $"The file is larger than {limits.MaxBytes:N0} bytes.");
}
