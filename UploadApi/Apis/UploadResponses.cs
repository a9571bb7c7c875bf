using Reference.UploadApi.Model;

namespace Reference.UploadApi.Apis;

public sealed record UploadAccepted(Guid Id, string Status, string StatusUrl);

public sealed record UploadResponse(
    Guid Id,
    Guid? ProductId,
    string Status,
    string? Reason,
    int Attempts,
    // DateTime, so the wire keeps its "Z" form.
    DateTime CreatedAt,
    DateTime UpdatedAt,
    IReadOnlyList<UploadVariantResponse> Variants)
{
    public static UploadResponse From(Upload upload) => new(
        upload.Id, upload.ProductId, upload.Status.ToString(), upload.Reason, upload.Attempts, upload.CreatedAt.UtcDateTime, upload.UpdatedAt.UtcDateTime,
        upload.Variants.Select(v => new UploadVariantResponse(v.Name, v.Width, v.Height, v.Format, v.Bytes, "/images/" + v.Key)).ToList());
}

public sealed record UploadVariantResponse(string Name, int Width, int Height, string Format, long Bytes, string Url);
