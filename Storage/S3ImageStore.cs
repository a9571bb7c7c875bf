using System.Net;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Reference.Storage;

/// <summary>
/// An S3-compatible bucket (<c>Storage:S3</c>): a key is an object key. A PUT becomes visible whole when
/// it completes, so no temporary names are needed; copy is never used (not every S3 server has it).
/// </summary>
public sealed class S3ImageStore(IAmazonS3 s3, string bucket, string stagingFolder) : IImageStore
{
    private const int DeleteBatchSize = 1000;

    public string StagingFolder { get; } = stagingFolder;

    public async Task PutAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        var request = new PutObjectRequest { BucketName = bucket, Key = StorageKeys.Checked(key), InputStream = content, AutoCloseStream = false, UseChunkEncoding = false };
        await OnS3(() => s3.PutObjectAsync(request, cancellationToken));
    }

    public async Task KeepFileAsync(string key, string path, CancellationToken cancellationToken = default)
    {
        var request = new PutObjectRequest { BucketName = bucket, Key = StorageKeys.Checked(key), FilePath = path, UseChunkEncoding = false };
        await OnS3(() => s3.PutObjectAsync(request, cancellationToken));
        File.Delete(path);
    }

    public async Task<StoredObject?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var request = new GetObjectRequest { BucketName = bucket, Key = StorageKeys.Checked(key) };
        var response = await OnS3(() => s3.GetObjectAsync(request, cancellationToken), orNullWhenMissing: true);
        return response is null
            ? null
            : new StoredObject(response.ResponseStream, response.ContentLength, response.LastModified ?? DateTime.UtcNow, response.ETag);
    }

    public async Task<bool> ExistsAsync(string key, CancellationToken cancellationToken = default)
    {
        var request = new GetObjectMetadataRequest { BucketName = bucket, Key = StorageKeys.Checked(key) };
        return await OnS3(() => s3.GetObjectMetadataAsync(request, cancellationToken), orNullWhenMissing: true) is not null;
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        // S3 answers 204 for a key that is not there.
        var request = new DeleteObjectRequest { BucketName = bucket, Key = StorageKeys.Checked(key) };
        await OnS3(() => s3.DeleteObjectAsync(request, cancellationToken));
    }

    public async Task DeleteFolderAsync(string folder, CancellationToken cancellationToken = default)
    {
        var keys = new List<string>();
        await foreach (var stored in ListAsync(folder, cancellationToken: cancellationToken))
        {
            keys.Add(stored.Key);
        }

        foreach (var batch in keys.Chunk(DeleteBatchSize))
        {
            var request = new DeleteObjectsRequest { BucketName = bucket, Objects = batch.Select(k => new KeyVersion { Key = k }).ToList() };
            await OnS3(() => s3.DeleteObjectsAsync(request, cancellationToken));
        }
    }

    public async IAsyncEnumerable<StoredKey> ListAsync(string folder, DateTimeOffset? modifiedBefore = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var request = new ListObjectsV2Request { BucketName = bucket, Prefix = StorageKeys.Checked(folder) + "/" };
        ListObjectsV2Response response;
        do
        {
            response = (await OnS3(() => s3.ListObjectsV2Async(request, cancellationToken)))!;
            foreach (var entry in response.S3Objects ?? [])
            {
                var lastModified = new DateTimeOffset(DateTime.SpecifyKind(entry.LastModified ?? DateTime.MinValue, DateTimeKind.Utc));
                if (modifiedBefore is null || lastModified < modifiedBefore)
                {
                    yield return new StoredKey(entry.Key, entry.Size ?? 0, lastModified);
                }
            }

            request.ContinuationToken = response.NextContinuationToken;
        }
        while (response.IsTruncated == true);
    }

    private static async Task<T?> OnS3<T>(Func<Task<T>> call, bool orNullWhenMissing = false) where T : class
    {
        try
        {
            return await call();
        }
        catch (AmazonS3Exception e) when (orNullWhenMissing && e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException)
        {
            throw new StorageUnavailableException(e);
        }
    }
}
