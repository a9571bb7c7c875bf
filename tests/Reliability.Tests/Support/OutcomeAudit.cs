using Reference.Contracts;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using MySqlConnector;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;

namespace Reference.Reliability.Tests.Support;

/// <summary>
/// Counts what became of accepted uploads, from the sources of truth rather than the API:
/// the upload rows in <c>uploaddb</c>, the variant files on disk, the product images in <c>inventorydb</c>.
/// </summary>
public sealed class OutcomeAudit(DistributedApplication app, string imageStorage)
{
    /// <summary>
    /// Waits until no accepted upload is Pending or Processing and every Ready upload for a
    /// product has reached the inventory (or nothing changed for a while), within <paramref name="timeout"/>.
    /// </summary>
    public async Task WaitUntilSettledAsync(IReadOnlyCollection<Guid> accepted, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!cts.IsCancellationRequested)
        {
            try
            {
                var outcome = await CountAsync(accepted);
                if (outcome.Unfinished == 0 && outcome.NotApplied == 0)
                {
                    return;
                }
            }
            catch (MySqlException)
            {
                // MySQL restarting: look again.
            }

            try
            {
                await Task.Delay(1000, cts.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public async Task<Outcome> CountAsync(IReadOnlyCollection<Guid> accepted)
    {
        var uploads = await ReadUploadsAsync();
        var images = await ReadProductImagesAsync();

        int ready = 0, failed = 0, unfinished = 0, missing = 0, badFiles = 0, notApplied = 0;
        var problems = new List<string>();
        var failures = new List<string>();
        var readyForProduct = new List<Guid>();
        foreach (var id in accepted)
        {
            if (!uploads.TryGetValue(id, out var upload))
            {
                missing++;
                problems.Add($"{id}: accepted but no row");
                continue;
            }

            switch (upload.Status)
            {
                case "Ready":
                    ready++;
                    if (VariantFileProblem(upload) is { } fileProblem)
                    {
                        badFiles++;
                        problems.Add($"{id}: {fileProblem}");
                    }

                    if (upload.ProductId is not null)
                    {
                        readyForProduct.Add(id);
                    }

                    if (upload.ProductId is { } product && !images.Contains((product, id)))
                    {
                        notApplied++;
                        problems.Add($"{id}: Ready but not on product {product}");
                    }

                    break;
                case "Failed":
                    failed++;
                    failures.Add($"{id}: Failed after {upload.Attempts} publishes: {upload.Reason}");
                    break;
                default:
                    unfinished++;
                    problems.Add($"{id}: still {upload.Status} after {upload.Attempts} attempts");
                    break;
            }
        }

        var applied = images.GroupBy(i => i).Sum(g => g.Count() - 1);
        var stray = images.Count(i => accepted.Contains(i.UploadId)
                                      && (!uploads.TryGetValue(i.UploadId, out var u) || u.Status != "Ready" || u.ProductId != i.ProductId));
        return new Outcome(accepted.Count, ready, failed, unfinished, missing, badFiles, notApplied, applied, stray,
            uploads.Count, problems, failures, readyForProduct);
    }

    /// <summary>The worker's default variants: name → longest side, never upscaled.</summary>
    private static readonly Dictionary<string, int> LongestSide = new() { ["thumb"] = 200, ["card"] = 600, ["detail"] = 1600 };

    /// <summary>
    /// Each variant the row names is on disk exactly once, the upload's folder holds nothing else,
    /// and each file decodes whole to the size the row lists, which fits the upright original.
    /// </summary>
    private string? VariantFileProblem(UploadRow upload)
    {
        if (upload.Variants.Count == 0)
        {
            return "Ready without variants";
        }

        if (upload.VariantKeys.Distinct().Count() != upload.VariantKeys.Count)
        {
            return "a variant is listed twice";
        }

        return FileListProblem(upload) ?? VariantContentProblem(upload);
    }

    private string? FileListProblem(UploadRow upload)
    {
        var folder = Path.Combine(imageStorage, "variants", upload.Id.ToString());
        var onDisk = Directory.Exists(folder)
            ? Directory.GetFiles(folder).Select(f => $"{upload.Id}/{Path.GetFileName(f)}").Order().ToList()
            : [];
        // WebP copies come after Ready from their own pass (image-webp) and are not listed; each must copy a listed variant.
        var copies = upload.VariantKeys.Select(ImageStorage.WebpCopyKey).ToHashSet();
        var variants = onDisk.Where(key => !copies.Contains(key)).ToList();
        var expected = upload.VariantKeys.Order().ToList();
        return variants.SequenceEqual(expected)
            ? null
            : $"variant files on disk [{string.Join(", ", onDisk)}] differ from the listed [{string.Join(", ", expected)}] and their WebP copies";
    }

    private string? VariantContentProblem(UploadRow upload)
    {
        var original = Directory.GetFiles(Path.Combine(imageStorage, "originals"), $"{upload.Id}.*").SingleOrDefault();
        if (original is null)
        {
            return "Ready without its original";
        }

        var stored = Image.Identify(original);
        var turned = stored.Metadata.ExifProfile?.GetValue(ExifTag.Orientation)?.Value is >= 5 and <= 8;
        var (width, height) = turned ? (stored.Height, stored.Width) : (stored.Width, stored.Height);
        foreach (var variant in upload.Variants)
        {
            Image decoded;
            try
            {
                decoded = Image.Load(Path.Combine(imageStorage, "variants", variant.Key));
            }
            catch (Exception e) when (e is ImageFormatException or UnknownImageFormatException or InvalidImageContentException)
            {
                return $"{variant.Key} does not decode: {e.Message}";
            }

            using (decoded)
            {
                if ((decoded.Width, decoded.Height) != (variant.Width, variant.Height))
                {
                    return $"{variant.Key} is {decoded.Width}×{decoded.Height}, listed as {variant.Width}×{variant.Height}";
                }

                var longest = Math.Min(LongestSide.GetValueOrDefault(variant.Name, int.MaxValue), Math.Max(width, height));
                // The same aspect ratio as the upright original, to the pixel rounding allows.
                var ratioOff = Math.Abs((long)decoded.Width * height - (long)decoded.Height * width) > Math.Max(width, height);
                if (Math.Max(decoded.Width, decoded.Height) != longest || ratioOff)
                {
                    return $"{variant.Key} is {decoded.Width}×{decoded.Height} for an upright {width}×{height} original";
                }
            }
        }

        return null;
    }

    private async Task<Dictionary<Guid, UploadRow>> ReadUploadsAsync()
    {
        await using var connection = new MySqlConnection(await app.GetConnectionStringAsync("uploaddb"));
        await connection.OpenAsync();
        await using var command = new MySqlCommand("SELECT Id, ProductId, Status, Attempts, Variants, Reason FROM Uploads", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<Guid, UploadRow>();
        while (await reader.ReadAsync())
        {
            var variants = reader.IsDBNull(4) ? "[]" : reader.GetString(4);
            var listed = JsonDocument.Parse(variants).RootElement.EnumerateArray()
                .Select(v => new ListedVariant(
                    v.GetProperty("name").GetString()!, v.GetProperty("key").GetString()!,
                    v.GetProperty("width").GetInt32(), v.GetProperty("height").GetInt32()))
                .ToList();
            var id = reader.GetGuid(0);
            rows[id] = new UploadRow(id, reader.IsDBNull(1) ? null : reader.GetGuid(1), reader.GetString(2), reader.GetInt32(3), listed,
                reader.IsDBNull(5) ? null : reader.GetString(5));
        }

        return rows;
    }

    private async Task<List<(Guid ProductId, Guid UploadId)>> ReadProductImagesAsync()
    {
        await using var connection = new MySqlConnection(await app.GetConnectionStringAsync("inventorydb"));
        await connection.OpenAsync();
        await using var command = new MySqlCommand("SELECT ProductId, UploadId FROM ProductImages", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var images = new List<(Guid, Guid)>();
        while (await reader.ReadAsync())
        {
            images.Add((reader.GetGuid(0), reader.GetGuid(1)));
        }

        return images;
    }

    private sealed record UploadRow(Guid Id, Guid? ProductId, string Status, int Attempts, List<ListedVariant> Variants, string? Reason)
    {
        public List<string> VariantKeys => Variants.Select(v => v.Key).ToList();
    }

    private sealed record ListedVariant(string Name, string Key, int Width, int Height);
}

/// <param name="Unfinished">Accepted uploads still Pending or Processing.</param>
/// <param name="Missing">Accepted uploads with no row at all.</param>
/// <param name="BadFiles">Ready uploads whose variant files are not each on disk exactly once, or do not decode to their size.</param>
/// <param name="NotApplied">Ready uploads for a product that the product does not list.</param>
/// <param name="DuplicatesApplied">Product images beyond the first for one (product, upload).</param>
/// <param name="Stray">Product images for an upload that is not Ready for that product.</param>
/// <param name="Rows">Upload rows in the database, all uploads included.</param>
/// <param name="Failures">Each Failed upload with its reason.</param>
/// <param name="ReadyForProduct">The Ready uploads made for a product.</param>
public sealed record Outcome(
    int Accepted, int Ready, int Failed, int Unfinished, int Missing, int BadFiles, int NotApplied, int DuplicatesApplied, int Stray,
    int Rows, IReadOnlyList<string> Problems, IReadOnlyList<string> Failures, IReadOnlyList<Guid> ReadyForProduct)
{
    public int Lost => Unfinished + Missing + NotApplied + BadFiles;
}
