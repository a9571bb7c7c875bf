using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Reference.UploadApi.Apis;

/// <summary>The <c>Auth</c> configuration section.</summary>
public sealed class AdminKeyOptions
{
    public const string Section = "Auth";
    public const string Header = "X-Api-Key";

    public string AdminKey { get; set; } = "";
}

/// <summary>Admin-only endpoints: no <c>X-Api-Key</c> → 401, a wrong one → 403.</summary>
public static class AdminKey
{
    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var expected = http.RequestServices.GetRequiredService<IOptions<AdminKeyOptions>>().Value.AdminKey;
            if (!http.Request.Headers.TryGetValue(AdminKeyOptions.Header, out var presented) || string.IsNullOrEmpty(presented))
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Admin key required",
                    detail: $"Send the admin key in the {AdminKeyOptions.Header} header.");
            }

            // Hashes compared in constant time: response times tell nothing about the key or its length.
            if (!CryptographicOperations.FixedTimeEquals(
                    SHA256.HashData(Encoding.UTF8.GetBytes(presented.ToString())), SHA256.HashData(Encoding.UTF8.GetBytes(expected))))
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Wrong admin key");
            }

            return await next(context);
        });
}
