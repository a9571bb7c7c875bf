using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Turns the exceptions a client or an outage can cause into ProblemDetails: a bad request body
/// keeps its 4xx (malformed JSON 400, too large 413), an unreachable MySQL is 503 with
/// <c>Retry-After</c>. Anything else is a bug and stays a 500.
/// </summary>
public sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
    {
        ProblemDetails problem;
        switch (exception)
        {
            case BadHttpRequestException bad:
                problem = new ProblemDetails
                {
                    Status = bad.StatusCode,
                    Title = bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Request body too large" : "Bad request",
                    Detail = bad.InnerException is JsonException json ? $"{bad.Message} {json.Message}" : bad.Message,
                };
                break;
            case var e when IsDatabaseUnavailable(e):
                logger.LogWarning("MySQL unavailable: {Message}", exception.Message);
                http.Response.Headers.RetryAfter = "5";
                problem = new ProblemDetails
                {
                    Status = StatusCodes.Status503ServiceUnavailable,
                    Title = "Database unavailable",
                    Detail = "The database cannot be reached right now; try again shortly.",
                };
                break;
            default:
                return false;
        }

        http.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem, Exception = exception });
    }

    public static bool IsDatabaseUnavailable(Exception e) => e switch
    {
        RetryLimitExceededException => true,
        MySqlException => true,
        DbUpdateException { InnerException: MySqlException } => true,
        InvalidOperationException { InnerException: MySqlException } => true,
        _ => false,
    };
}

public static class ProblemResponses
{
    /// <summary>ProblemDetails for every error, and <see cref="ProblemExceptionHandler"/> for the exceptions behind them.</summary>
    public static IServiceCollection AddProblemResponses(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();
        return services;
    }
}
