import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { UnavailableException } from '@pixmill/common';
import { JobName, JobQueue } from '@pixmill/queue';
import { ApiProblems } from '../common/api-problems.decorator';

class PingDto {
  @ApiProperty({ required: false, example: 'hello' }) @IsOptional() @IsString() @MaxLength(200) message?: string;
}
class PingResultDto {
  @ApiProperty() jobId: string;
  @ApiProperty({ example: 'hello' }) message: string;
  @ApiProperty({ description: 'PID of the worker process that handled the job.' }) workerPid: number;
  @ApiProperty({ format: 'date-time' }) handledAt: string;
  @ApiProperty({ example: 12 }) roundTripMs: number;
}

/** Proves the queue plumbing end to end: the API enqueues, a worker process answers. */
@ApiTags('operations')
@ApiBearerAuth()
@Controller('v1/ops')
export class PingController {
  constructor(private readonly jobs: JobQueue) {}

  @Post('ping')
  @HttpCode(200)
  @ApiOperation({ summary: 'Round-trip a ping job through a worker', description: 'Waits up to 10 s for a worker to answer.' })
  @ApiResponse({ status: 200, type: PingResultDto })
  @ApiProblems('validation_failed', 'unauthorized', ['unavailable', 'no worker answered within 10 s, or Redis is down'])
  async ping(@Body() body: PingDto, @Req() req: FastifyRequest): Promise<PingResultDto> {
    const started = Date.now();
    let jobId: string;
    try {
      jobId = await this.jobs.add(
        { name: JobName.Ping, data: { message: body.message ?? 'ping', requestId: String(req.id) } },
        { attempts: 1, removeOnComplete: { age: 60 }, removeOnFail: { age: 60 } },
      );
    } catch {
      throw new UnavailableException('The job queue is unavailable.');
    }
    try {
      const result = await this.jobs.waitFor(JobName.Ping, jobId, 10_000);
      return { jobId, ...result, roundTripMs: Date.now() - started };
    } catch {
      throw new UnavailableException('No worker answered the ping within 10 s.');
    }
  }
}
